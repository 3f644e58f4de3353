# Command substitution: $(...), backquotes, nesting, trailing newlines, status, in arguments and assignments.
a=$(echo hello)
echo "a=$a"
b=`echo back quotes`
echo "b=$b"
echo "nested: $(echo "outer $(echo "inner $(echo innermost)")")"
lines=$(printf 'x\ny\n\n\n')
echo "trailing newlines stripped: [$lines]"
count=$(seq 1 50 | wc -l)
echo "count: $count"
x=$(exit 7)
echo "status of an assignment from \$(exit 7): $?"
echo "words: $(echo one two   three)"
set -- $(echo p q r)
echo "positional: $# $1 $3"
echo "arithmetic on output: $(( $(echo 6) * $(echo 7) ))"
sum=0
for n in $(seq 1 10); do sum=$((sum + n)); done
echo "sum: $sum"
echo "heredoc in a substitution: $(cat <<END
inside
END
)"
v=$(echo out; echo err >&2)
echo "only stdout is captured: $v"
