#!/usr/bin/env python3
"""Host mode: a long-running server in the sandbox, talked to by later Tasks.

The manual's Flask flow: write the app, start it in the background (the
Task finishes once it started; ``status.steps[0].pid`` is its PID), call it
from another Task, look at the sandbox's processes, stop it with SIGTERM.

The app uses Flask when the sandbox's Python has it (the cluster's
python:3.9-slim test image does). A standalone ``make run`` sandbox runs the
host's python, which may not: then the same app is served with the standard
library's http.server, and the example says so.

    python3 examples/python/08_host_mode_server.py

Prints:
    Serving with Flask            (or: Flask is not installed in the sandbox's Python: serving with http.server)
    Started the server, PID 12
    Hello from ARL Host Mode!
    Processes: 12 Running python /workspace/app.py
    Sent SIGTERM to 12
    Server stopped: SIGTERM
"""

from _bootstrap import NAMESPACE, POOL

from arl import SandboxSession

FLASK_APP = """\
from flask import Flask
app = Flask(__name__)

@app.route("/")
def hello():
    return "Hello from ARL Host Mode!"

app.run(host="127.0.0.1", port=5000)
"""

STDLIB_APP = """\
import http.server

class Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"Hello from ARL Host Mode!")

http.server.HTTPServer(("127.0.0.1", 5000), Hello).serve_forever()
"""

# The manual's client is `sleep 2; curl http://localhost:5000`; this one waits
# only as long as the server takes to listen, and needs no curl.
CLIENT = """\
import time, urllib.request
for _ in range(300):
    try:
        print(urllib.request.urlopen("http://127.0.0.1:5000", timeout=2).read().decode())
        break
    except OSError:
        time.sleep(0.1)
else:
    raise SystemExit("the server did not answer")
"""


def command(name, *argv):
    return {"name": name, "type": "Command", "command": list(argv)}


with SandboxSession(POOL, namespace=NAMESPACE) as session:
    has_flask = session.execute([command("check-flask", "python", "-c", "import flask")])["status"]["exitCode"] == 0
    if has_flask:
        print("Serving with Flask")
    else:
        print("Flask is not installed in the sandbox's Python: serving with http.server")
    session.write_file("/workspace/app.py", FLASK_APP if has_flask else STDLIB_APP)

    pid = session.start_process(["python", "/workspace/app.py"])
    print(f"Started the server, PID {pid}")

    result = session.execute([command("call", "python", "-c", CLIENT)], timeout="60s")
    print(result["status"]["stdout"], end="")

    for p in session.list_processes():
        if p["pid"] == pid:
            print(f"Processes: {p['pid']} {p['state']} {' '.join(p['command'])}")

    session.signal(pid, "SIGTERM")
    print(f"Sent SIGTERM to {pid}")
    # Wait, in the sandbox, until the process is gone.
    session.execute([command("wait", "sh", "-c", f"while kill -0 {pid} 2>/dev/null; do sleep 0.1; done")],
                    timeout="60s")
    stopped = next(p for p in session.list_processes() if p["pid"] == pid)
    print(f"Server stopped: {stopped.get('signal') or stopped.get('exitCode')}")
