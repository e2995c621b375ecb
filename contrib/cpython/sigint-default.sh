#!/bin/sh
# SPDX-License-Identifier: MIT
# usage: contrib/cpython/sigint-default.sh COMMAND [ARG...]
#
# Run COMMAND with SIGINT at its default action. A job started in the
# background by a non-interactive shell (`cmd &`, nohup, many CI runners)
# inherits SIGINT ignored, an ignored signal stays ignored across exec, and
# sh cannot reset it. CPython then installs no SIGINT handler, so
# _thread.interrupt_main() does nothing and tests that rely on it
# (test_asyncio.test_runners, test_threading) spin or wait forever, with any
# allocator (CPython gh-154167). perl (Debian's perl-base is essential) can
# reset it before the exec.
exec perl -e '$SIG{INT} = "DEFAULT"; exec { $ARGV[0] } @ARGV or die "sigint-default: cannot run $ARGV[0]: $!\n"' "$@"
