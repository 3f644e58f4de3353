# set -m in a script without a terminal: jobs in their own process groups, stopped and continued by job
# number, and what jobs and wait say of them (each shell its own way; no terminal, so no foreground). The
# status is waited for by pid: a shell may reap the killed job before `wait %1` runs (seen natively under load).
set -m
sleep 10 &
pid=$!
kill -STOP %1
sleep 0.1
jobs
kill -CONT %1
sleep 0.1
jobs
# busybox reports the job's death on stderr when its SIGCHLD comes before `wait` runs (natively too, now
# and then): where that message goes is a race, so the group's stderr is dropped.
{ kill %1; wait $pid; echo "status $?"; } 2>/dev/null
jobs
echo done
