"""The lab's own server (services/server/srvr.py, as the image has it) with SERVER_VARIANT=thread, handed in
as a submission: it must score full marks."""

import os
import runpy
import sys

os.environ["SERVER_VARIANT"] = "thread"
os.environ["SWITCH_INTERVAL"] = "0.0005"  # the _thread variant's main thread spins: let it give way often
sys.argv[0] = "/app/server/srvr.py"
runpy.run_path("/app/server/srvr.py", run_name="__main__")
