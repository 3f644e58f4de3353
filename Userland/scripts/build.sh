# Building in a writable directory, as a user of the guest would: gcc compiles and links a program that runs,
# make builds a target and then finds it up to date, git records and lists commits, and python3's tempfile
# finds a directory and makes unnamed files. Prints nothing that changes from run to run.
d=$(mktemp -d /tmp/umk-build.XXXXXX) || exit 1
cd "$d" || exit 1
printf '#include <stdio.h>\nint main(void) { puts("hello from gcc"); return 3; }\n' > hello.c
gcc -O1 -o hello hello.c && ./hello; echo "status $?"
printf 'out.txt: in.txt\n\ttr a-z A-Z < in.txt > out.txt\n' > Makefile
echo abc > in.txt
make -s && cat out.txt
make 2>&1
git init -q repo && cd repo || exit 1
git config user.email umk@example.com && git config user.name umk
echo one > f && git add f && git commit -q -m first --date=2001-01-01T00:00:00Z && echo two >> f &&
git commit -q -am second --date=2001-01-02T00:00:00Z && git log --format='%s %an %ad' --date=short &&
git status --porcelain && git show --stat --format=%s HEAD | tail -1
cd .. || exit 1
python3 -c '
import os, tempfile
print(tempfile.gettempdir())
with tempfile.TemporaryFile() as f:
    f.write(b"unnamed"); f.seek(0); print(f.read().decode())
with tempfile.NamedTemporaryFile(dir=".") as f:
    print(os.path.exists(f.name))
'
cd / && rm -rf "$d" && echo cleaned
