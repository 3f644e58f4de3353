# exec and scripts running scripts: #! scripts with arguments, sh -c with $0, exec replacing the shell.
dir=$(dirname "$0")
"$dir/helpers/args.sh" one "two words" ''
"$dir/helpers/status.sh" 5
echo "status of a script that exits 5: $?"
sh -c 'echo "sh -c: \$0=$0 \$1=$1 \$#=$#"' zero one two
sh "$dir/helpers/args.sh" run by sh
"$dir/helpers/nested.sh"
(exec "$dir/helpers/args.sh" exec in a subshell)
echo "after the subshell's exec"
PATH="$dir/helpers:$PATH" args.sh found on PATH
exec "$dir/helpers/args.sh" exec replaces the shell
echo "never printed"
