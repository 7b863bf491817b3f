#!/usr/bin/env bash
# Make sure the Ding German-English dictionary (Debian package trans-de-en) and the German
# thesaurus (openthesaurus-de-text) are installed. Installs them with apt when that is
# possible; otherwise says what quality is lost.
set -u
dict="${DICTIONARY_PATH:-/usr/share/trans/de-en}"
thesaurus="${THESAURUS_PATH:-/usr/share/openthesaurus-de/openthesaurus.txt}"

# install PACKAGE FILE: true when FILE exists afterwards
install() {
  [ -f "$2" ] && return 0
  command -v apt-get >/dev/null 2>&1 || return 1
  if [ "$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; else return 1; fi
  echo "Installing the Debian package $1..."
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get install -y -qq "$1" >/dev/null 2>&1 \
    || { $sudo apt-get update -qq >/dev/null 2>&1 && $sudo apt-get install -y -qq "$1" >/dev/null 2>&1; }
  [ -f "$2" ]
}

install trans-de-en "$dict" || cat >&2 <<MSG
warning: the Ding dictionary is not installed ($dict) and could not be installed here.
  English questions will then only match names, glossary terms and words spelled the same
  in German; German questions are unaffected. Install it with:
      sudo apt-get install trans-de-en
  The answer-quality tests need it and will fail without it.
MSG

install openthesaurus-de-text "$thesaurus" || cat >&2 <<MSG
warning: the German thesaurus is not installed ($thesaurus) and could not be installed
  here. A German question's word the articles never use ("schicken" for "entsenden") then
  finds nothing. Install it with:
      sudo apt-get install openthesaurus-de-text
MSG
exit 0
