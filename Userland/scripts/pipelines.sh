# Pipelines: data through several processes, exit statuses, `!`, a writer killed by SIGPIPE.
printf 'pear\napple\nfig\n' | sort | tr a-z A-Z
printf 'one\ntwo\nthree\n' | cat | cat | cat | wc -l
seq 1 1000 | grep 7 | wc -l
seq 1 20000 | sort -rn | head -n 3
echo "a:b:c" | cut -d: -f2 | sed 's/b/bee/'
false | true; echo "false | true: $?"
true | false; echo "true | false: $?"
! false; echo "! false: $?"
! true; echo "! true: $?"
# yes dies of SIGPIPE when head is done; the pipeline's status is head's.
yes | head -n 3
echo "yes | head: $?"
yes abc | head -c 100000 | wc -c
# 1 MiB through three pipes.
yes 0123456789abcde | head -c 1048576 | cat | wc -c
