# Job control from a script: a background job stopped, continued and killed, and one killed while
# stopped (it dies only once continued); wait reports each end.
sleep 10 &
job=$!
kill -STOP $job
kill -CONT $job
kill $job
wait $job
echo "the stopped, continued and killed job: $?"
sleep 10 &
job=$!
kill -STOP $job
kill $job
kill -CONT $job
wait $job
echo "killed while stopped: $?"
