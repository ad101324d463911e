# Commands run (inside the throwaway netns, ufw from the extracted Debian ufw_0.36.2-1_all.deb
# with --rootdir/--datadir pointing at a private copy of its /etc/ufw; IPT_SYSCTL emptied)
# 01_inactive: fresh install state, nothing run
# 02_active_deny:
ufw default deny incoming
ufw default allow outgoing
ufw allow 22/tcp
ufw --force enable
# 03_active_allow_incoming (continues from 02):
ufw default allow incoming
