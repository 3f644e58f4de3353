# Exit statuses: of commands, of signals that kill a child, of programs that cannot run, and the script's own.
dir=$(dirname "$0")
sh -c 'exit 0'; echo "exit 0: $?"
sh -c 'exit 255'; echo "exit 255: $?"
sh -c 'kill -TERM $$'; echo "killed by TERM: $?"
# bash reports the pid of a job killed by SIGKILL: replaced.
(sh -c 'kill -KILL $$'; echo "killed by KILL: $?") 2>&1 | sed 's/ *[0-9][0-9]* Killed/ PID Killed/'
sh -c 'kill -INT $$'; echo "killed by INT: $?"
nonexistent-command-for-umk 2>&1; echo "not found: $?"
"$dir/exec/noexec.txt" 2>&1; echo "not executable: $?"
"$dir/exec/missing" 2>&1; echo "missing: $?"
# execve answers ENOEXEC: the shell runs the file as a script itself.
"$dir/exec/garbage" 2>&1; echo "text without #!: $?"
"$dir/exec/empty" 2>&1; echo "an empty file: $?"
"$dir/exec/bad-interp" 2>&1; echo "a missing interpreter: $?"
exit 42
