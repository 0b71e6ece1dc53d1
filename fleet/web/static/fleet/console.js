// The console page: asks Fleet for a single-use token, hands it to noVNC, and says why a session ended.
import RFB from "../novnc/core/rfb.js";
import KeyTable from "../novnc/core/input/keysym.js";
import keysyms from "../novnc/core/input/keysymdef.js";

const root = document.getElementById("console");
const screen = document.getElementById("console-screen");
const state = document.getElementById("console-state");
const message = document.getElementById("console-message");
const buttons = ["console-cad", "console-send", "console-paste"].map((id) => document.getElementById(id));
const reconnect = document.getElementById("console-reconnect");
const scale = document.getElementById("console-scale");
let rfb = null;
let session = null;

function say(text) {
  message.textContent = text;
  message.hidden = !text;
}

function connected(on) {
  buttons.forEach((b) => { b.disabled = !on; });
  reconnect.hidden = on;
  state.textContent = on ? "Connected" : "Disconnected";
  root.dataset.state = on ? "connected" : "disconnected";
}

async function outcome() {
  // The proxy wrote how the session went; ask for it (a refusal before the upgrade gives the browser nothing).
  if (!session) return "";
  const url = root.dataset.statusUrl.replace("00000000-0000-0000-0000-000000000000", session);
  const answer = await fetch(url, { credentials: "same-origin" });
  return answer.ok ? (await answer.json()).message : "";
}

async function connect() {
  say("");
  state.textContent = "Connecting…";
  const answer = await fetch(root.dataset.tokenUrl, {
    method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": root.dataset.csrf },
  });
  const body = await answer.json().catch(() => ({ error: `The console could not be opened (${answer.status}).` }));
  if (!answer.ok) {
    connected(false);
    say(body.error);
    return;
  }
  session = body.session;
  root.dataset.session = session;
  rfb = new RFB(screen, body.url);
  rfb.scaleViewport = scale.checked;
  rfb.addEventListener("connect", () => { connected(true); rfb.focus(); });
  rfb.addEventListener("disconnect", async (event) => {
    connected(false);
    rfb = null;
    const why = await outcome();
    say(why && why !== "Ended" ? why : event.detail.clean ? "The console was closed." : "The connection to the console was lost.");
  });
  rfb.addEventListener("clipboard", (event) => { document.getElementById("console-clipboard").value = event.detail.text; });
  rfb.addEventListener("securityfailure", (event) => say(`The VNC server refused: ${event.detail.reason || "security failure"}`));
}

function typeText(text) {
  // Key by key, as a person would type it: a press and a release per character.
  for (const char of text.replace(/\r\n?/g, "\n")) {
    const keysym = char === "\n" ? KeyTable.XK_Return : keysyms.lookup(char.codePointAt(0));
    rfb.sendKey(keysym, null, true);
    rfb.sendKey(keysym, null, false);
  }
}

document.getElementById("console-cad").addEventListener("click", () => rfb && rfb.sendCtrlAltDel());
document.getElementById("console-send").addEventListener("click", () => {
  const box = document.getElementById("console-text");
  if (rfb && box.value) typeText(box.value);
  rfb && rfb.focus();
});
document.getElementById("console-paste").addEventListener("click", () => {
  if (rfb) rfb.clipboardPasteFrom(document.getElementById("console-clipboard").value);
});
document.getElementById("console-fullscreen").addEventListener("click", () => {
  if (document.fullscreenElement) document.exitFullscreen();
  else screen.requestFullscreen();
});
scale.addEventListener("change", () => { if (rfb) rfb.scaleViewport = scale.checked; });
reconnect.addEventListener("click", connect);
connect();
