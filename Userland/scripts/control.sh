# Control flow, arithmetic, functions, recursion through subshells (many forks).
for i in 1 2 3; do
    case $i in
        1) echo "one" ;;
        2|3) echo "two or three: $i" ;;
    esac
done
n=0
while [ $n -lt 5 ]; do n=$((n + 1)); done
echo "while: $n"
until [ $n -eq 0 ]; do n=$((n - 1)); done
echo "until: $n"
echo "arithmetic: $((7 * 6)) $((100 / 7)) $((100 % 7)) $((1 << 10)) $(( (2 + 3) * 4 ))"
fib() {
    if [ "$1" -lt 2 ]; then echo "$1"; return; fi
    echo $(( $(fib $(($1 - 1))) + $(fib $(($1 - 2))) ))
}
echo "fib 10: $(fib 10)"
max() { if [ "$1" -gt "$2" ]; then echo "$1"; else echo "$2"; fi; }
echo "max: $(max 3 9)"
check() { return "$1"; }
if check 0; then echo "check 0 is true"; fi
if ! check 1; then echo "check 1 is false"; fi
check 3 || echo "check 3 failed with $?"
for w in alpha beta gamma; do
    case $w in
        b*) continue ;;
        g*) break ;;
    esac
    echo "loop: $w"
done
i=0
while true; do
    i=$((i + 1))
    [ $i -ge 3 ] && break
done
echo "broke out at $i"
s=""
for c in a b c d; do s="$s$c"; done
echo "built: $s ${#s}"
v="path/to/file.txt"
echo "${v##*/} ${v%.*} ${v#*/} ${v%%/*}"
set -- x y z
shift
echo "after shift: $* ($#)"
