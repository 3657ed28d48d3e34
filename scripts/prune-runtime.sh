#!/bin/sh
# Removes from a production node_modules what the gateway never loads at run time: better-sqlite3's
# bundled SQLite sources and compiler objects (the built addon stays), and TypeORM's browser
# build. Used by the Dockerfile's runtime stage and by .ci/runtime-tree, which boots the result.
set -eu
cd "${1:-.}/node_modules"
rm -rf better-sqlite3/deps better-sqlite3/src \
  better-sqlite3/build/Release/obj better-sqlite3/build/Release/obj.target \
  better-sqlite3/build/Release/.deps better-sqlite3/build/Release/test_extension.node \
  better-sqlite3/build/deps typeorm/browser
