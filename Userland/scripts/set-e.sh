# set -e: a failing command ends the script with its status, except where the shell must not exit.
set -e
echo "before"
if false; then echo "not printed"; fi
false || echo "false || ... does not exit"
! true
echo "! true does not exit"
(set -e; false; echo "not printed either")  || echo "the subshell exited with $?"
x=$(false) || echo "a failed substitution in an assignment with ||: $?"
false && echo "not printed"
echo "still running"
sh -c 'exit 3'
echo "not reached"
