/*
 * NAME
 *	postalias - build, query, dump and update alias tables; newaliases
 * SYNOPSIS
 *	postalias [-NfinoprsuUvw] [-c config_dir] [-d key] [-q key]
 *		[type:]file ...
 *	newaliases [-c config_dir]
 * DESCRIPTION
 *	postalias does for aliases(5) files what postmap does for
 *	"key value" files: build (atomically), query (-q), dump (-s, as
 *	"name: value"), delete (-d) and add from standard input (-i). Run
 *	under the name newaliases without table names, it rebuilds every
 *	table listed in alias_database. The work is done by
 *	dict_tool_main() (lib/dict_tool.c); see man/man1/postalias.1.
 */
#include "dict.h"

int main(int argc, char **argv)
{
    return dict_tool_main(argc, argv, DICT_SRC_ALIAS);
}
