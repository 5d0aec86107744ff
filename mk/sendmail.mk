# sendmail.mk - local submission: extra build rules.
#
# mailq is sendmail under another name: run as "mailq" it lists the queue
# (postqueue -p). newaliases stays the postalias link that mk/tables.mk
# makes; "sendmail -bi" runs postalias as well.

$(BUILD)/sbin/mailq: $(BUILD)/sbin/sendmail
	@ln -sfn sendmail $@

EXTRA_BUILD += $(BUILD)/sbin/mailq
# EXTRA_BUILD is read by the build rule before mk/*.mk is included, so also
# state the dependency directly.
build: $(BUILD)/sbin/mailq
