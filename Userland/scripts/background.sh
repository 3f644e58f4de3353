# Background jobs, $!, wait and their statuses. Output of concurrent jobs is sorted.
{ echo one & echo two & echo three & wait; } | sort
(exit 7) &
p=$!
wait $p
echo "wait for a job that exited 7: $?"
sh -c 'exit 9' &
q=$!
wait "$q"
echo "wait for sh -c 'exit 9': $?"
sleep 0.2 &
s=$!
echo "a job is running"
wait $s
echo "the sleeper is done: $?"
{ for i in 1 2 3 4 5; do (echo "job $i") & done; wait; } | sort
echo "all waited"
wait
echo "wait with no jobs: $?"
result=$( (sleep 0.1; echo late) & echo early; wait)
echo "$result"
