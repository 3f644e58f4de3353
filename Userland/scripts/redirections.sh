# Redirections that stay off the (read-only) file system: stderr into stdout and pipes, here-documents,
# input from files, fds opened with exec, closed fds.
echo "to stdout"
echo "to stderr" >&2
{ echo "out"; echo "err" >&2; } 2>&1 | sed 's/^/piped: /'
{ echo "swap out"; echo "swap err" >&2; } 3>&1 1>&2 2>&3 | sed 's/^/was stderr: /'
cat <<EOF2
a here-document with $((1 + 2)) and $(echo substitution)
	tabs stay
EOF2
cat <<'EOF2'
quoted: $HOME $(not run)
EOF2
cat <<-EOF2
	leading tabs are stripped
	EOF2
while read -r word rest; do
    echo "word=$word rest=$rest"
done <<EOF2
alpha beta gamma
delta
EOF2
read -r first < "$0"
echo "first line of this script: $first"
exec 3< "$0"
read -r line <&3
read -r line2 <&3
exec 3<&-
echo "via fd 3: $line2"
wc -l < "$0" | tr -d ' '
tr a-z A-Z <<EOF2
shout
EOF2
echo "closed stdout:"
( echo "this fails" >&- ) 2>&1
echo "status: $?"
echo done
