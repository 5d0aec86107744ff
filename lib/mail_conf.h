#ifndef POSTERN_MAIL_CONF_H
#define POSTERN_MAIL_CONF_H
/*
 * mail_conf - main.cf, and the one parameter registry
 *
 * Every parameter postern reads is declared once, in a lib/params/AREA.def
 * file (format in lib/params/README), which gives it a name, type, default,
 * limits and a description. From those files come the global variables
 * var_NAME (declared in mail_params.h), the values postconf -d prints, and
 * man/man5/postconf.5.
 *
 * Typical program start-up:
 *	mail_conf_read(config_dir);          NULL = $MAIL_CONFIG or the default
 *	mail_conf_override("name", "value"); for each -o name=value
 *	mail_conf_eval();                    fills every var_NAME, validates
 *
 * Values are expanded Postfix-style: $name, ${name}, ${name?text},
 * ${name:text}, $(name); expansion loops are detected and fatal.
 * Invalid values (not a number, out of range, bad bool or time unit) are
 * fatal with the file and parameter named.
 */
#include "mail_params.h"

extern char *var_config_dir;  /* the directory main.cf was read from */

void mail_conf_read(const char *config_dir);
void mail_conf_override(const char *name, const char *value);
void mail_conf_eval(void);

const char *mail_conf_lookup(const char *name);      /* raw value as set, or NULL */
char *mail_conf_lookup_eval(const char *name);       /* expanded, default applied; caller frees; NULL if unknown */
char *mail_conf_expand(const char *value);           /* expand $refs; caller frees */
int mail_conf_known(const char *name);               /* in the registry? */

#endif
