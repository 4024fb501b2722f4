"""Print docs/reliability.md's table of results from the figures a run of the fault cases
wrote (PARLEY_RELIABILITY_REPORT=path, see docs/reliability.md):

    python scripts/reliability_table.py reliability.json
"""

import json
import sys

ORDER = [
    ("messages_through_nginx", "1. messages through nginx over 2 processes"),
    ("sigkill_under_clients", "2. SIGKILL of a process under clients"),
    ("rolling_restart", "3. rolling restart through nginx"),
    ("redis_stopped", "4. Redis stopped"),
    ("one_client_id_five_times", "5. one client_id sent 5 times at once"),
    ("lost_ack", "6. a lost ack"),
    ("reader_reading_nothing", "7. a reader that reads nothing"),
    ("reconnect_churn", "8. reconnect churn"),
    ("resume_from_far_behind", "9. a resume from 12,000 behind"),
]
# the figure that says how long recovery took, per case
RECOVERY = {
    "sigkill_under_clients": ("seconds_kill_to_all_delivered", "kill → all delivered"),
    "rolling_restart": ("seconds_to_restart_both", "both restarted"),
    "redis_stopped": ("seconds_from_redis_back_to_all_delivered", "Redis back → all delivered"),
    "resume_from_far_behind": ("seconds_to_catch_up", "resume → caught up"),
    "reader_reading_nothing": ("seconds_unread", "unread for"),
    "reconnect_churn": ("seconds", "churning for"),
    "messages_through_nginx": ("seconds", "first send → all delivered"),
}


def row(key: str, title: str, f: dict) -> str:
    d = f.get("deliveries") or {}
    messages = f.get("messages", f.get("stored", f.get("behind", "")))
    clients = f.get("clients", f.get("churning_clients", ""))
    if "chatting_clients" in f:
        clients = f"{f['chatting_clients']} chat + {f['churning_clients']} churn"
    recovery = ""
    if key in RECOVERY and RECOVERY[key][0] in f:
        recovery = f"{f[RECOVERY[key][0]]} s ({RECOVERY[key][1]})"
    gap = f.get("max_seconds_without_socket", "")
    counts = (
        f"{d.get('lost', 0)} / {d.get('duplicated', 0)} / {d.get('out_of_order', 0)}"
        if d
        else "0 / 0 / 0"
    )
    return (
        f"| {title} | {messages} | {clients} | {d.get('received', '')} | {counts} "
        f"| {recovery} | {f'{gap} s' if gap != '' else ''} |"
    )


def main(path: str) -> None:
    figures = json.load(open(path))
    print(
        "| case | messages | clients | deliveries counted | lost / duplicated / out of order "
        "| time | longest without a socket |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for key, title in ORDER:
        if key in figures:
            print(row(key, title, figures[key]))


if __name__ == "__main__":
    main(sys.argv[1])
