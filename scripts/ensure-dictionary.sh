#!/usr/bin/env bash
# Make sure the Ding German-English dictionary (Debian package trans-de-en) is installed.
# Installs it with apt when that is possible; otherwise says what quality is lost.
set -u
dict="${DICTIONARY_PATH:-/usr/share/trans/de-en}"
[ -f "$dict" ] && exit 0

if command -v apt-get >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; else sudo=none; fi
  if [ "$sudo" != none ]; then
    echo "Installing the Ding dictionary (Debian package trans-de-en)..."
    export DEBIAN_FRONTEND=noninteractive
    if $sudo apt-get install -y -qq trans-de-en >/dev/null 2>&1 \
       || { $sudo apt-get update -qq >/dev/null 2>&1 && $sudo apt-get install -y -qq trans-de-en >/dev/null 2>&1; }; then
      [ -f "$dict" ] && exit 0
    fi
  fi
fi

cat >&2 <<MSG
warning: the Ding dictionary is not installed ($dict) and could not be installed here.
  English questions will then only match names, glossary terms and words spelled the same
  in German; German questions are unaffected. Install it with:
      sudo apt-get install trans-de-en
  The answer-quality tests need it and will fail without it.
MSG
exit 0
