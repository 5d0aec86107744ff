#ifndef POSTERN_CLEANUP_LOCAL_H
#define POSTERN_CLEANUP_LOCAL_H
/*
 * cleanup_local - does a client count as local for header processing
 * (local_header_rewrite_clients)?
 *
 * cleanup_local_create(rules, mynetworks, inet_interfaces, proxy_interfaces)
 *	prepares the rules (the value of local_header_rewrite_clients) once
 *	per process; the other arguments are the values of the parameters
 *	of the same names. Rules, tried in order:
 *	    permit_inet_interfaces   the client address is one of this
 *	                             host's addresses: inet_interfaces
 *	                             ("all": every interface address;
 *	                             "loopback-only": 127.0.0.1 and ::1;
 *	                             else the addresses and host names
 *	                             listed) and proxy_interfaces
 *	    permit_mynetworks        the client address matches mynetworks
 *	    permit_sasl_authenticated  the client logged in (SASL user name
 *	                             not empty)
 *	    check_address_map type:table  the client address is in the table
 *	permit_tls_clientcerts and permit_tls_all_clientcerts are accepted
 *	and never match (cleanup does not learn about client certificates).
 *	Other words are logged as warnings and ignored. The result belongs
 *	to the caller (cleanup_local_free()).
 *
 *	mynetworks is compiled with smtpd_netlist_create() (lib/smtpd_match.h),
 *	so that permit_mynetworks means exactly what it means in smtpd(8);
 *	a bad entry there is fatal.
 *
 * cleanup_local_match(local, client_addr, sasl_user) returns 1 when a
 *	rule matches, 0 when none does (also for an empty or malformed
 *	address, which only permit_sasl_authenticated can match), and -1
 *	when a table lookup failed. IPv4-mapped IPv6 addresses
 *	(::ffff:192.0.2.1) are compared as IPv4.
 */
typedef struct CLEANUP_LOCAL CLEANUP_LOCAL;

CLEANUP_LOCAL *cleanup_local_create(const char *rules, const char *mynetworks,
                                    const char *inet_interfaces, const char *proxy_interfaces);
int cleanup_local_match(CLEANUP_LOCAL *local, const char *client_addr, const char *sasl_user);
void cleanup_local_free(CLEANUP_LOCAL *local);

#endif
