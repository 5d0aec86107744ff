/*
 * NAME
 *	postmap - build, query, dump and update lookup tables
 * SYNOPSIS
 *	postmap [-NfinoprsuUvw] [-c config_dir] [-d key] [-q key]
 *		[type:]file ...
 * DESCRIPTION
 *	postmap builds an on-disk table (hash, btree, lmdb, cdb) from a
 *	source file of "key whitespace value" lines, queries any table,
 *	dumps one, deletes keys from one, or adds lines read from standard
 *	input (-i). The work is done by dict_tool_main() (lib/dict_tool.c),
 *	shared with postalias; see man/man1/postmap.1 for the options.
 */
#include "dict.h"

int main(int argc, char **argv)
{
    return dict_tool_main(argc, argv, DICT_SRC_MAP);
}
