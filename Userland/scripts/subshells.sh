# Subshells and groups: their own variables and working directory, exit statuses, exec inside one.
x=outer
(x=inner; echo "in the subshell: $x")
echo "after the subshell: $x"
{ x=group; echo "in the group: $x"; }
echo "after the group: $x"
(cd /usr && pwd)
pwd
(exit 3)
echo "(exit 3): $?"
(exec echo "exec in a subshell")
echo "still here: $?"
( (echo nested; exit 4); echo "inner status $?" )
(echo a; echo b) | (read first; read second; echo "read $first and $second")
echo "a pipeline in a subshell: $( (echo z; echo y) | sort | tr '\n' ' ')"
f() { echo "function in a subshell: $1"; return 5; }
(f arg)
echo "its status: $?"
umask 022
(umask 077; umask)
umask
