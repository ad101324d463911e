#!/bin/sh
# Installs auditor on this machine, as root, on Debian 12 or Ubuntu 24.04 with nothing but the OS
# (no pip; not even python3 on a minimal install). It apt-get installs python3 and python3-venv plus
# the commands an audit of this machine reads with, creates the virtual environment /opt/auditor with
# the distribution's /usr/bin/python3 (never a python3 that happens to be first on PATH), pip installs
# this checkout into it, and links /usr/local/bin/auditor. A second run upgrades in place.
#
#   sh install.sh           the auditor
#   sh install.sh --test    also what the test suite needs: the `test` extra in the same environment,
#                           and the system packages of the lab and the browser tests
#
# pip and apt-get use this machine's own settings (sources, pip.conf, PIP_* variables, proxies).
set -eu

venv=/opt/auditor
link=/usr/local/bin/auditor

die() {
  echo "install.sh: $*" >&2
  exit 1
}

test_suite=0
for arg in "$@"; do
  case $arg in
    --test) test_suite=1 ;;
    -h | --help)
      sed -n '2,12s/^# \{0,1\}//p' "$0"
      exit 0
      ;;
    *)
      echo "install.sh: unknown argument '$arg' (the only option is --test)" >&2
      exit 2
      ;;
  esac
done

[ "$(id -u)" -eq 0 ] || die "run it as root: it installs Debian packages, $venv and $link"
command -v apt-get >/dev/null 2>&1 || die "apt-get not found: this installer is for Debian 12 and Ubuntu 24.04"
src=$(cd "$(dirname "$0")" && pwd)
[ -f "$src/pyproject.toml" ] || die "$src/pyproject.toml not found: run the install.sh of an auditor checkout"

# procps (ps) and kmod (modprobe -n -v) are how the audit reads processes and module policy: without
# them those checks say `error`. Debian and Ubuntu ship both except in their most minimal images.
packages="python3 python3-venv procps kmod"
if [ "$test_suite" = 1 ]; then
  # tests/lab: debootstrapped Debian hosts in network namespaces
  packages="$packages debootstrap debian-archive-keyring wget iproute2 util-linux mount openssh-client"
  # this machine as an audited host, and the network probes
  packages="$packages openssh-server nftables iptables rsyslog sudo nmap"
  # schedules: systemd-analyze verifies the timer units (systemd need not be PID 1 for that)
  packages="$packages systemd"
  # evidence packs checked as an inspector does: unzip, then ssh-keygen -Y verify and sha256sum -c
  packages="$packages unzip"
  # the history store's PostgreSQL tests start their own server from these binaries (as the postgres account)
  packages="$packages postgresql"
  # distributed runs: a real Redis broker the tests start (with a password) and stop
  packages="$packages redis-server"
  # the HTML report in a real browser (tests/integration); Ubuntu ships chromium only as a snap
  if [ "$(. /etc/os-release && echo "${ID:-}")" = ubuntu ]; then
    echo "install.sh: Ubuntu has no chromium .deb: the browser tests skip unless chromium (snap) is on PATH" >&2
  else
    packages="$packages chromium fonts-dejavu-core"
  fi
fi

missing=""
for p in $packages; do
  dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii' || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "install.sh: apt-get install$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086 # one word per package
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

python=/usr/bin/python3
version=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
# A venv is tied to one Python X.Y (its lib/pythonX.Y): after a distribution upgrade, build it again.
if [ ! -x "$venv/bin/python3" ] || [ ! -d "$venv/lib/python$version" ] || ! "$venv/bin/python3" -c '' 2>/dev/null; then
  if [ -e "$venv" ]; then
    [ -f "$venv/pyvenv.cfg" ] || die "$venv exists and is not a Python virtual environment: move it away first"
    echo "install.sh: $venv was made for another Python; making it again for $version"
    rm -rf --one-file-system "$venv"
  fi
  "$python" -m venv "$venv"
fi

extra=""
[ "$test_suite" = 1 ] && extra="[test]"
echo "install.sh: pip install $src$extra into $venv"
# --upgrade: a second run installs the checkout as it is now, and its dependencies only where needed.
# --use-pep517: python-nmap (an sdist) builds the same way with Debian's pip 23 and Ubuntu's pip 24.
"$venv/bin/python3" -m pip install --quiet --disable-pip-version-check --upgrade --use-pep517 "$src$extra"

mkdir -p "$(dirname "$link")"
ln -sfn "$venv/bin/auditor" "$link"
echo "install.sh: $("$link" --version) -> $link"
