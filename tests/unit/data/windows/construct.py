"""Writes the constructed Windows samples of this folder (see README.md). Run: python3 construct.py"""
import datetime as dt
import json

UTC = dt.timezone.utc
now = int(dt.datetime(2026, 11, 23, 12, 0, tzinfo=UTC).timestamp())


def ms(d):
    return "\\/Date(%d)\\/" % (int(d.timestamp()) * 1000)


def w(name, out, rc=0, err=""):
    open(name + ".out", "w").write(out)
    open(name + ".rc", "w").write(f"{rc}\n")
    open(name + ".stderr", "w").write(err)


def js(obj):
    # ConvertTo-Json -Compress writes "\/Date(...)\/" with escaped slashes: keep them literally
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).replace("\\\\/", "\\/")


def mp(updated_days, age, rt=True, mode="Normal", ood=False):
    upd = dt.datetime(2026, 11, 23, 12, 0, tzinfo=UTC) - dt.timedelta(days=updated_days)
    return [{"now": now, "status": {"AMServiceEnabled": True, "AntivirusEnabled": True, "RealTimeProtectionEnabled": rt,
             "AMRunningMode": mode, "AMProductVersion": "4.18.24090.11", "AntivirusSignatureVersion": "1.421.1234.0",
             "AntivirusSignatureLastUpdated": ms(upd), "AntivirusSignatureAge": age,
             "DefenderSignaturesOutOfDate": ood, "IsTamperProtected": True}}]


w("defender_on", js(mp(1.25, 1)))
w("defender_stale", js(mp(20.5, 20, ood=True)))
w("defender_passive", js(mp(0.5, 0, rt=False, mode="Passive Mode")))
w("defender_not_running", "", 1, "Operation failed with the following error: 0x800106ba")
w("defender_access_denied", "", 1, "Operation failed with the following error: 0x80070005")
ts = "Mon, 23 Nov 2026 07:58:12 GMT"
defender = {"displayName": "Windows Defender", "instanceGuid": "{D68DDC3A-831F-4fae-9E44-DA132C1ACF46}",
            "pathToSignedProductExe": "windowsdefender://", "productState": 393472, "timestamp": ts}
bkav = {"displayName": "Bkav Pro Internet Security", "instanceGuid": "{9A3F1B2C-7D4E-4F10-8A6B-2C5D3E4F5A6B}",
        "pathToSignedProductExe": "C:\\Program Files (x86)\\BkavPro\\BkavPro.exe", "productState": 266240, "timestamp": ts}
w("wsc_bkav_on", js([defender, bkav]))
w("wsc_bkav_outdated", js([defender, dict(bkav, productState=266256)]))
w("wsc_cmc_snoozed", js([defender, {"displayName": "CMC Antivirus", "instanceGuid": "{1B2C3D4E-5F60-4718-9A0B-C1D2E3F4A5B6}",
                                    "pathToSignedProductExe": "C:\\Program Files\\CMC\\CMCAV.exe",
                                    "productState": 270336, "timestamp": ts}]))
w("wsc_defender_only", js([dict(defender, productState=397568)]))
w("wsc_server_no_namespace", "", 1, "Invalid namespace ")


def usb(**k):
    base = {"usbstor_present": True, "usbstor_start": 3, "deny_removable_devices": None, "deny_all": None,
            "removable_disk_deny_read": None, "removable_disk_deny_write": None}
    base.update(k)
    return js([base])


w("usb_open", usb())
w("usb_usbstor_disabled", usb(usbstor_start=4))
w("usb_policy_deny_all", usb(deny_all=1))
w("usb_removable_read_only_denied", usb(removable_disk_deny_read=1))
w("usb_install_policy", usb(deny_removable_devices=1))
w("usb_key_absent", usb(usbstor_present=False, usbstor_start=None))


def prof(n, e, i, o="Allow"):
    return {"Name": n, "Enabled": e, "DefaultInboundAction": i, "DefaultOutboundAction": o, "LogBlocked": "False",
            "LogFileName": "%systemroot%\\system32\\LogFiles\\Firewall\\pfirewall.log"}


w("fw_all_on", js([prof("Domain", "True", "Block"), prof("Private", "True", "Block"), prof("Public", "True", "Block")]))
w("fw_public_off", js([prof("Domain", "True", "Block"), prof("Private", "True", "Block"), prof("Public", "False", "Block")]))
w("fw_private_inbound_allow", js([prof("Domain", "True", "Block"), prof("Private", "True", "Allow"),
                                  prof("Public", "True", "Block")]))
numeric = [{"Name": n, "Enabled": 1, "DefaultInboundAction": i, "DefaultOutboundAction": 2, "LogBlocked": 2,
            "LogFileName": "%systemroot%\\system32\\LogFiles\\Firewall\\pfirewall.log"}
           for n, i in (("Domain", 4), ("Private", 0), ("Public", 4))]
w("fw_numeric_enums", js(numeric))
w("fw_cmdlet_failed", "", 1, "Access is denied.")


def log(n, mb, en=True, mode="Circular"):
    return {"LogName": n, "IsEnabled": en, "MaximumSizeInBytes": mb * 1048576, "LogMode": mode,
            "FileSize": mb * 1048576 // 3}


std = [log("Security", 20), log("System", 20), log("Application", 20)]
w("ev_default_no_forwarding", js([{"logs": std, "subscription_managers": [], "agents": []}]))
w("ev_wef", js([{"logs": [log("Security", 1024), log("System", 64), log("Application", 64)],
                 "subscription_managers": ["Server=http://logs.sotttt.gov.vn:5985/wsman/SubscriptionManager/WEC,Refresh=60"],
                 "agents": []}]))
w("ev_nxlog_agent", js([{"logs": [log("Security", 256), log("System", 32), log("Application", 32)],
                         "subscription_managers": [],
                         "agents": [{"Name": "nxlog", "DisplayName": "nxlog", "Status": "Running"},
                                    {"Name": "winlogbeat", "DisplayName": "winlogbeat", "Status": "Stopped"}]}]))
w("ev_security_denied", js([{"logs": [{"LogName": "Security", "Error": "Attempted to perform an unauthorized operation."},
                                      log("System", 20), log("Application", 20)],
                             "subscription_managers": [], "agents": []}]))


def vol(mp, t, p, s, pc, m):
    return {"MountPoint": mp, "VolumeType": t, "ProtectionStatus": p, "VolumeStatus": s, "EncryptionPercentage": pc,
            "EncryptionMethod": m}


w("bl_os_on", js([vol("C:", "OperatingSystem", "On", "FullyEncrypted", 100, "XtsAes128"),
                  vol("D:", "Data", "Off", "FullyDecrypted", 0, "None")]))
w("bl_os_off", js([vol("C:", "OperatingSystem", "Off", "FullyDecrypted", 0, "None")]))
w("bl_suspended", js([vol("C:", "OperatingSystem", "Off", "FullyEncrypted", 100, "XtsAes256")]))
w("bl_not_installed", "", 1, "The term 'Get-BitLockerVolume' is not recognized as the name of a cmdlet, function, "
  "script file, or operable program.")
adm = {"Name": "PC-KETOAN01\\Administrator", "ObjectClass": "User", "PrincipalSource": "Local",
       "SID": "S-1-5-21-3623811015-3361044348-30300820-500"}
da = {"Name": "SOTTTT\\Domain Admins", "ObjectClass": "Group", "PrincipalSource": "ActiveDirectory",
      "SID": "S-1-5-21-1004336348-1177238915-682003330-512"}
extra = {"Name": "PC-KETOAN01\\nguyenvana", "ObjectClass": "User", "PrincipalSource": "Local",
         "SID": "S-1-5-21-3623811015-3361044348-30300820-1001"}
w("admins_expected", js([adm, da]))
w("admins_extra_user", js([adm, da, extra]))
w("admins_adsi_fallback", js([{"Name": "PC-KETOAN01\\Administrator", "ObjectClass": "User", "PrincipalSource": "ADSI",
                               "SID": "S-1-5-21-3623811015-3361044348-30300820-500"},
                              {"Name": "S-1-5-21-3623811015-3361044348-30300820-1107", "ObjectClass": "User",
                               "PrincipalSource": "ADSI", "SID": "S-1-5-21-3623811015-3361044348-30300820-1107"}]))


def na(lines, rc=0):
    return js([{"rc": rc, "lines": lines}])


default = ["Force user logoff how long after time expires?:       Never",
           "Minimum password age (days):                          0",
           "Maximum password age (days):                          42",
           "Minimum password length:                              0",
           "Length of password history maintained:                None",
           "Lockout threshold:                                    Never",
           "Lockout duration (minutes):                           30",
           "Lockout observation window (minutes):                 30",
           "Computer role:                                        WORKSTATION",
           "The command completed successfully.", ""]
w("accounts_default", na(default))
hard = list(default)
hard[3] = "Minimum password length:                              12"
hard[5] = "Lockout threshold:                                    5"
hard[4] = "Length of password history maintained:                24"
w("accounts_hardened", na(hard))
german = ["Erzwungene Abmeldung nach Ablauf der Zeit?:           Nie",
          "Minimales Kennwortalter (Tage):                        1",
          "Maximales Kennwortalter (Tage):                        90",
          "Minimale Kennwortlänge:                                10",
          "Länge der Kennwortchronik:                             Keine",
          "Sperrschwelle:                                         Nie",
          "Sperrdauer (Minuten):                                  30",
          "Zurücksetzungsdauer des Sperrzählers (Minuten):        30",
          "Computerrolle:                                         ARBEITSSTATION",
          "Der Befehl wurde erfolgreich ausgeführt.", ""]
w("accounts_localised", na(german))
w("accounts_failed", na(["System error 5 has occurred.", "", "Access is denied.", ""], rc=2))
hf = [{"HotFixID": "KB5046613", "Description": "Security Update", "InstalledOn": "2026-11-13"},
      {"HotFixID": "KB5045594", "Description": "Update", "InstalledOn": "2026-10-10"},
      {"HotFixID": "KB5011048", "Description": "Update", "InstalledOn": None}]
w("hotfix_recent", js([{"now": now, "today": "2026-11-23", "hotfixes": hf}]))
w("hotfix_old", js([{"now": now, "today": "2026-11-23", "hotfixes": [{"HotFixID": "KB5039212", "Description": "Security Update",
                                                          "InstalledOn": "2026-06-11"}]}]))
w("hotfix_single_object", js([{"now": now, "today": "2026-11-23", "hotfixes": {"HotFixID": "KB5039212",
                                                                    "Description": "Security Update",
                                                                    "InstalledOn": "2026-11-20"}}]))
