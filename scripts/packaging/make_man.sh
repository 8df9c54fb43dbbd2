#!/usr/bin/env bash
# Writes kad.1.gz, a man page made from the program's own --help texts
# (`kad --help` and each subcommand's), so it never disagrees with them.
# Usage: make_man.sh KAD_BINARY OUTPUT VERSION
set -euo pipefail
kad=$1 out=$2 version=$3
# Escapes roff: backslashes, and a leading dot or quote.
escape() { sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"; }
{
  echo ".TH KAD 1 \"\" \"kad $version\" \"User Commands\""
  echo ".SH NAME"
  echo "kad \\- a Kademlia DHT node and client"
  echo ".SH SYNOPSIS"
  echo ".B kad"
  echo "\\fICOMMAND\\fR [\\fIOPTIONS\\fR]"
  echo ".SH DESCRIPTION"
  echo ".nf"
  "$kad" --help | escape
  echo ".fi"
  for command in node overlay put get ping lookup stats bench; do
    echo ".SH \"KAD ${command^^}\""
    echo ".nf"
    "$kad" "$command" --help | escape
    echo ".fi"
  done
  echo ".SH FILES"
  echo ".TP"
  echo ".I /etc/default/kad"
  echo "flags of the kad service (KAD_OPTS)"
  echo ".TP"
  echo ".I /var/lib/kad"
  echo "the service's data dir: node id, records, contacts"
  echo ".SH SEE ALSO"
  echo "/usr/share/doc/kad/README.md"
} | gzip -9n >"$out"
