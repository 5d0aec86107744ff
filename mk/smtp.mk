# smtp.mk - the SMTP/LMTP client: lmtp(8) is smtp(8) under another name.
#
# master.cf starts "lmtp" for the lmtp service; smtp/smtp.c runs in LMTP
# mode when its program name is lmtp.

$(BUILD)/libexec/lmtp: $(BUILD)/libexec/smtp
	@ln -sfn smtp $@

EXTRA_BUILD += $(BUILD)/libexec/lmtp
# EXTRA_BUILD is read by the build rule before mk/*.mk is included, so also
# state the dependency directly.
build: $(BUILD)/libexec/lmtp
