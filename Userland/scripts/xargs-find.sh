# xargs and find -exec: programs that run other programs.
dir=$(dirname "$0")
printf '%s\n' a b c | xargs echo
printf '%s\n' a b c d e | xargs -n 2 echo pair:
printf '%s\n' x y | xargs -I{} echo "<{}>"
echo "1 2 3" | xargs sh -c 'echo "sh got $#: $*"' sh
printf 'q\n' | xargs false
echo "xargs with a failing command: $?"
find "$dir/helpers" -name '*.sh' -exec basename {} \; | sort
find "$dir/helpers" -name '*.sh' -exec sh -c 'echo "$(basename "$1") has $(wc -l < "$1") lines"' sh {} \; | sort
find "$dir/helpers" -name 'a*' -exec echo found {} + | sed "s|$dir/||g"
find "$dir/helpers" -type f | sort | xargs -n 1 basename
