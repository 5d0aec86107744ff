#ifndef POSTERN_MAIL_PARAMS_H
#define POSTERN_MAIL_PARAMS_H
/*
 * mail_params - the var_NAME global of every registered parameter
 *
 * Generated from lib/params/ *.def (see lib/params/README); filled by
 * mail_conf_eval().
 */
#define PARAM_STR(n, d, doc) extern char *var_##n;
#define PARAM_LIST(n, d, doc) extern char *var_##n;
#define PARAM_INT(n, d, lo, hi, doc) extern long var_##n;
#define PARAM_SIZE(n, d, lo, hi, doc) extern long var_##n;
#define PARAM_TIME(n, d, u, lo, hi, doc) extern long var_##n;
#define PARAM_BOOL(n, d, doc) extern int var_##n;
#define PARAM_RAW(n, d, doc) extern char *var_##n;
#include "params.def"
#undef PARAM_STR
#undef PARAM_LIST
#undef PARAM_INT
#undef PARAM_SIZE
#undef PARAM_TIME
#undef PARAM_BOOL
#undef PARAM_RAW

#endif
