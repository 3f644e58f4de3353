# Files in a writable directory (the guest's own /tmp): redirections, names, links, modes, copies and
# archives, temporary files of sort, and the errors of each, with the directory's name taken out.
d=$(mktemp -d /tmp/umk-files.XXXXXX) || exit 1
cd "$d" || exit 1
show() { "$@" 2>&1 | sed "s|$d|D|g"; }
echo one > a; echo two >> a; cat a
printf 'x%.0s' 1 2 3 4 5 > b; wc -c < b
mkdir -p p/q/r && echo deep > p/q/r/f && cat p/q/r/f
show mkdir p
ln a hard && ln -s a soft && ls -l hard | cut -c1-11,12-13; readlink soft; cat soft
mv a renamed && cat hard && show cat soft && ls
chmod 640 renamed && ls -l renamed | cut -c1-10
chmod u+s,g+x renamed && ls -l renamed | cut -c1-10
: > renamed && wc -c < hard
show rmdir p
rm -r p && show ls p
mkdir e && touch e/x && show rmdir e && rm e/x && rmdir e && echo removed e
cp -a renamed copy && cmp renamed copy && echo copied
seq 1 2000 | sort -r -S 1K -T "$d" | head -3
seq 1 500 > nums && gzip -9 nums && ls nums* && gunzip nums.gz && tail -1 nums
mkdir t && echo in > t/f && tar cf t.tar t && rm -r t && tar xf t.tar && cat t/f
ln -s missing dangling && show cat dangling
show mv t/f t/f/g
show ln renamed t
show rm t
touch -d '2001-02-03 04:05:06' old && ls -l --time-style=+%F.%T old | cut -d' ' -f6-
find . -type f | sort
cd / && rm -rf "$d" && echo cleaned
