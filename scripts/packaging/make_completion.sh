#!/usr/bin/env bash
# Writes a bash completion script for kad from the program's own --help
# texts (its subcommands, and each one's flags), so it never disagrees
# with them. Completes subcommands, flags, file names after --file,
# --data-dir and --out, and log levels.
# Usage: make_completion.sh KAD_BINARY OUTPUT
set -euo pipefail
kad=$1 out=$2
# Prints the subcommands listed in the help text on stdin.
subcommands() { sed -n '/^Subcommands:/,/^$/p' | awk 'NR > 1 && NF {print $1}'; }
# Prints the long flags of the help text on stdin.
flags() { grep -oE '^ +(-[a-z],)?--[a-z0-9-]+' | sed 's/.*--/--/' | sort -u | tr '\n' ' '; }

commands=$("$kad" --help | subcommands | tr '\n' ' ')
{
  echo "# bash completion for kad; generated from kad --help by"
  echo "# scripts/packaging/make_completion.sh."
  echo "_kad() {"
  echo '  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}'
  echo '  case $prev in'
  echo '    --file|--data-dir|--out) compopt -o filenames; COMPREPLY=($(compgen -f -- "$cur")); return ;;'
  echo '    --log-level) COMPREPLY=($(compgen -W "trace debug info warn error" -- "$cur")); return ;;'
  echo '  esac'
  echo '  local command=${COMP_WORDS[1]} words'
  echo '  if ((COMP_CWORD == 1)); then'
  echo "    words=\"$commands --help --version\""
  echo '  else'
  echo '    case $command in'
  for command in $commands; do
    nested=$("$kad" "$command" --help | subcommands | tr '\n' ' ')
    if [ -n "$nested" ]; then
      echo "      $command)"
      echo '        if ((COMP_CWORD == 2)); then'
      echo "          words=\"$nested\""
      echo '        else'
      echo '          case ${COMP_WORDS[2]} in'
      for sub in $nested; do
        echo "            $sub) words=\"$("$kad" "$command" "$sub" --help | flags)\" ;;"
      done
      echo '          esac'
      echo '        fi ;;'
    else
      echo "      $command) words=\"$("$kad" "$command" --help | flags)\" ;;"
    fi
  done
  echo '    esac'
  echo '  fi'
  echo '  COMPREPLY=($(compgen -W "$words" -- "$cur"))'
  echo '}'
  echo 'complete -F _kad kad'
} >"$out"
