/* SPDX-License-Identifier: MIT */
/* Not compiled. CPython's Makefile.pre.in names Objects/mimalloc/prim/unix/prim.c
   among Objects/obmalloc.o's dependencies (the vendored mimalloc's file
   list); with mica in place the file must exist, and has nothing to say.
   mica's sources beside it are what obmalloc.c compiles (static.c). */
