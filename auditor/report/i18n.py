"""Interface strings of the report in Vietnamese (default) and English."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "title": {"vi": "Báo cáo kiểm tra an toàn thông tin", "en": "Information security audit report"},
    "playbook": {"vi": "Bộ kiểm tra", "en": "Playbook"},
    "run": {"vi": "Lần chạy", "en": "Run"},
    "started": {"vi": "Bắt đầu", "en": "Started"},
    "finished": {"vi": "Kết thúc", "en": "Finished"},
    "incomplete": {
        "vi": "Lần chạy bị gián đoạn: chỉ có kết quả của các máy đã kiểm tra xong.",
        "en": "The run was interrupted: only hosts that finished are listed.",
    },
    "score": {"vi": "Điểm", "en": "Score"},
    "coverage": {"vi": "Độ bao phủ", "en": "Coverage"},
    "formula": {"vi": "Công thức", "en": "Formula"},
    "plan_tasks": {"vi": "Nhiệm vụ theo kế hoạch", "en": "Plan tasks"},
    "task": {"vi": "Nhiệm vụ", "en": "Task"},
    "hosts": {"vi": "Máy được kiểm tra", "en": "Hosts"},
    "host": {"vi": "Máy", "en": "Host"},
    "address": {"vi": "Địa chỉ", "en": "Address"},
    "status": {"vi": "Trạng thái", "en": "Status"},
    "findings": {"vi": "Các kiểm tra không đạt hoặc lỗi", "en": "Failed and erroneous checks"},
    "check": {"vi": "Kiểm tra", "en": "Check"},
    "severity": {"vi": "Mức độ", "en": "Severity"},
    "reason": {"vi": "Lý do", "en": "Reason"},
    "remediation": {"vi": "Khắc phục", "en": "Remediation"},
    "evidence": {"vi": "Bằng chứng", "en": "Evidence"},
    "command": {"vi": "Lệnh", "en": "Command"},
    "output": {"vi": "Kết quả", "en": "Output"},
    "none": {"vi": "Không có", "en": "None"},
    "pass": {"vi": "Đạt", "en": "Pass"},
    "fail": {"vi": "Không đạt", "en": "Fail"},
    "error": {"vi": "Lỗi", "en": "Error"},
    "unknown": {"vi": "Chưa xác định", "en": "Unknown"},
    "not_applicable": {"vi": "Không áp dụng", "en": "Not applicable"},
    "manual": {"vi": "Cần bằng chứng thủ công", "en": "Manual"},
    "waived": {"vi": "Được miễn trừ", "en": "Waived"},
    "reachable": {"vi": "Kết nối được", "en": "Reachable"},
    "unreachable": {"vi": "Không kết nối được", "en": "Unreachable"},
    "total": {"vi": "Tổng", "en": "Total"},
}

LANGUAGES = ("vi", "en")


def translator(lang: str):
    if lang not in LANGUAGES:
        raise ValueError(f"unsupported language {lang!r} (vi, en)")

    def t(key: str) -> str:
        entry = MESSAGES.get(key)
        return entry[lang] if entry else key

    return t
