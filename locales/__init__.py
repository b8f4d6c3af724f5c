"""gettext catalogs: ``<lang>/LC_MESSAGES/messages.po``, compiled to ``.mo`` at install and build time.

Source strings (msgid) are English; German is the complete, authoritative translation.
Workflow: ``wegbegleiter i18n extract|update|compile|check`` (see README).
"""
