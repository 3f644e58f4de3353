# env and the environment: env running programs with changed environments, export, unset.
env -i A=1 B=2 env | sort
env -i PATH=/usr/bin:/bin X=y sh -c 'echo "X=$X"'
FOO=temporary sh -c 'echo "FOO in the child: $FOO"'
echo "FOO here: ${FOO-unset}"
export BAR=exported
sh -c 'echo "BAR in the child: $BAR"'
unset BAR
sh -c 'echo "BAR after unset: ${BAR-unset}"'
env -u HOME sh -c 'echo "HOME: ${HOME-unset}"'
env | grep -c '^PATH='
echo "HOME=$HOME"
env -i /usr/bin/env
echo "empty environment: $?"
