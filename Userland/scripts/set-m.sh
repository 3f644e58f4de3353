# set -m in a script without a terminal: jobs in their own process groups, stopped and continued by job
# number, and what jobs and wait say of them (each shell its own way; no terminal, so no foreground).
set -m
sleep 10 &
kill -STOP %1
sleep 0.1
jobs
kill -CONT %1
sleep 0.1
jobs
kill %1
wait %1
echo "status $?"
jobs
echo done
