# ruff: noqa: E501  (the patterns are kept whole, as the catalog had them)
"""Grep facts kept as test material: the catalog's config_grep facts before its checks read the programs'
own answers. Real paths and EREs with lines on the lab's hosts, for the tests of the shared grep and of
the ERE translation (the catalog itself greps nothing now)."""

FORMER_GREPS = [
    {
        "paths": ["/etc/login.defs"],
        "pattern": "^[[:space:]]*PASS_MAX_DAYS[[:space:]]+([1-9]|[1-8][0-9]|90)[[:space:]]*$",
    },
    {
        "paths": ["/etc/login.defs"],
        "pattern": "^[[:space:]]*PASS_MAX_DAYS[[:space:]]+(0*|0*(9[1-9]|[1-9][0-9]{2,})|-[0-9]+)[[:space:]]*$",
    },
    {
        "paths": ["/etc/pam.d/common-auth", "/etc/pam.d/system-auth", "/etc/pam.d/password-auth"],
        "pattern": "^[[:space:]]*auth[[:space:]].*pam_(faillock|tally2)\\.so",
    },
    {
        "paths": [
            "/etc/crontab",
            "/etc/cron.d/*",
            "/etc/cron.hourly/*",
            "/etc/cron.daily/*",
            "/etc/cron.weekly/*",
            "/var/spool/cron/crontabs/*",
            "/etc/systemd/system/*.service",
        ],
        "pattern": "(^|[^A-Za-z])(clamscan|clamdscan)([^A-Za-z]|$)",
    },
    {
        "paths": [
            "/etc/crontab",
            "/etc/cron.d/*",
            "/etc/cron.daily/*",
            "/etc/cron.weekly/*",
            "/var/spool/cron/crontabs/*",
        ],
        "pattern": "(^|[^A-Za-z0-9_.-])(tar|rsync|borg|restic|duplicity|rdiff-backup|rsnapshot|bacula-fd|bareos-fd|mysqldump|mariadb-dump|pg_dump|pg_dumpall|pg_basebackup|backup\\.sh|backup-manager)([^A-Za-z0-9_-]|$)",
    },
    {
        "paths": ["/etc/security/limits.conf", "/etc/security/limits.d/*.conf"],
        "pattern": "^[[:space:]]*\\*[[:space:]]+hard[[:space:]]+core[[:space:]]+0[[:space:]]*$",
    },
    {
        "paths": ["/etc/sysctl.conf", "/etc/sysctl.d/*.conf", "/usr/lib/sysctl.d/*.conf", "/run/sysctl.d/*.conf"],
        "pattern": "^[[:space:]]*fs\\.suid_dumpable[[:space:]]*=[[:space:]]*0[[:space:]]*$",
    },
    {
        "paths": ["/etc/issue.net", "/etc/issue", "/etc/ssh/*banner*"],
        "pattern": "([Aa]uthori[sz]ed|AUTHORI[SZ]ED|[Mm]onitored|MONITORED|[Tt]rái phép|TRÁI PHÉP|[Đđ]ược phép|ĐƯỢC PHÉP|[Gg]iám sát|GIÁM SÁT)",
    },
    {
        "paths": ["/etc/sudoers", "/etc/sudoers.d/*"],
        "pattern": '^[[:space:]]*Defaults([[:space:]]|.*,)[[:space:]]*logfile[[:space:]]*=[[:space:]]*"?/',
    },
    {
        "paths": ["/etc/sudoers", "/etc/sudoers.d/*"],
        "pattern": "^[[:space:]]*Defaults([[:space:]]|.*,)[[:space:]]*!+[[:space:]]*syslog([[:space:]]|,|$)",
    },
    {
        "paths": ["/etc/audit/rules.d/*.rules", "/etc/audit/audit.rules"],
        "pattern": "^[[:space:]]*-(w[[:space:]]+|a[[:space:]].*-F[[:space:]]*path=)/etc/(passwd|shadow|group|gshadow|sudoers)",
    },
    {
        "paths": [
            "/etc/chrony/chrony.conf",
            "/etc/chrony.conf",
            "/etc/chrony/conf.d/*.conf",
            "/etc/chrony/sources.d/*.sources",
            "/etc/ntp.conf",
            "/etc/ntpsec/ntp.conf",
            "/etc/openntpd/ntpd.conf",
            "/etc/systemd/timesyncd.conf",
            "/etc/systemd/timesyncd.conf.d/*.conf",
        ],
        "pattern": "^[[:space:]]*((server|pool|peer|servers)[[:space:]]+[^[:space:]]+|NTP=[^[:space:]]+)",
    },
    {
        "paths": ["/etc/apt/apt.conf.d/*"],
        "pattern": '^[[:space:]]*APT::Periodic::Unattended-Upgrade[[:space:]]+"(always|0*[1-9][0-9]*[dhms]?)"',
    },
    {
        "paths": ["/etc/apt/apt.conf.d/*"],
        "pattern": '^[[:space:]]*APT::Periodic::Unattended-Upgrade[[:space:]]+"(0+|never)"',
    },
    {
        "paths": ["/etc/usbguard/usbguard-daemon.conf"],
        "pattern": "^[[:space:]]*ImplicitPolicyTarget[[:space:]]*=[[:space:]]*(block|reject)",
    },
]
