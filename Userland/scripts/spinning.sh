# Jobs that compute without making system calls do not stall the shell: its sleeps wake beside them and
# kill reaches them. (The spinners trap TERM so that no shell prints a "Terminated" line with a pid.)
(trap 'exit 3' TERM; while :; do :; done) &
spinner=$!
sleep 0.2
kill $spinner
wait $spinner
echo "the spinner exited: $?"
(trap 'exit 4' TERM; while :; do :; done) &
a=$!
(trap 'exit 5' TERM; while :; do :; done) &
b=$!
i=0
while [ $i -lt 5 ]; do sleep 0.01; i=$((i + 1)); done
echo "slept five times beside two spinners"
kill $a $b
wait $a
echo "the first exited: $?"
wait $b
echo "the second exited: $?"
