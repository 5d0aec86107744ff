# tables.mk - lookup tables: extra build rules.
#
# newaliases is postalias under another name: run as "newaliases" with no
# table names it rebuilds $alias_database. (When commands/sendmail exists,
# "sendmail -bi" may run it too.)

$(BUILD)/sbin/newaliases: $(BUILD)/sbin/postalias
	@ln -sfn postalias $@

EXTRA_BUILD += $(BUILD)/sbin/newaliases
# EXTRA_BUILD is read by the build rule before mk/*.mk is included, so also
# state the dependency directly.
build: $(BUILD)/sbin/newaliases
