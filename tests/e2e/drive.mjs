#!/usr/bin/env node
// Drives the Microsoft 365 Agents Playground in headless Chromium and reports what the bot sent.
//
//   node drive.mjs [options] '[{"say": "my actions"}, {"waitForCardText": "My actions"}]'
//   echo '[...steps...]' | node drive.mjs [options]
//
// Options:
//   --url URL              playground web UI (default http://127.0.0.1:56150)
//   --timeout-ms N         default wait for waitFor* steps (default 20000)
//   --load-timeout-ms N    wait for the page to load (default 40000; the playground holds its
//                          config request until the bot answers, for up to 15 s)
//   --artifacts DIR        relative screenshot paths resolve here; failure.png is saved here
//   --viewport WxH         default 1400x1000
//   --traffic              include full request/response bodies of playground<->bot traffic
//   --allow-bot-errors     do not fail when the bot answers the playground with HTTP >= 400
//   --chromium PATH        default /usr/bin/chromium
//
// Steps (run in order; every waitFor* only considers bot messages that are new or changed since
// the last say/reply/click/choose/fill/open/pause step):
//   {"open": "personal" | "group" | "channel" | "channel:<name>" | "<tree item aria-label>"}
//   {"say": "text", "mention": bool}    personal chat: no mention by default; group chat and channel:
//                                       "@<bot>" is inserted first by default. In a channel this
//                                       starts a new post.
//   {"reply": "text", "mention": bool}  channel only: reply in the newest thread (the top one)
//   {"waitForText": "text" | {"regex": "..."}, "timeout": ms}   any bot message, text or card
//   {"waitForCardText": "text" | {"regex": "..."}, "timeout": ms}   inside an Adaptive Card
//   {"waitForCard": "text", "timeout": ms}   a card with that text is on screen, new or not (for
//                                       two cards that arrive together, in either order)
//   {"expectNoReply": ms}               fail if a bot message arrives or changes within ms
//   {"click": "button title", "in": "text in the card"}    the last card on screen (or the last
//                                       containing "in") that has the button; in a channel the
//                                       newest thread is on top, so give "in" there
//   {"choose": "option title", "field": "label", "in": "card text"}   ChoiceSet (compact or expanded)
//   {"fill": "value", "field": "label or placeholder", "in": "card text"}   Input.Text, or
//                                       Input.Date by its label with the value as YYYY-MM-DD
//   {"pause": "label"}                  print "@@pause <label as JSON>" on stderr and wait for a line
//                                       on stdin, e.g. while the test triggers a proactive job (the
//                                       page shows only what arrives while it is open); needs the
//                                       steps as an argument
//   {"screenshot": "path.png", "card": "text"}   the page, or just the newest card with that text
//   {"sleep": ms}
//
// Prints one JSON object on stdout (also on failure). Exit 0 = all steps passed, 1 = a step
// failed (the reason is on stderr and in .error), 2 = bad arguments or the page did not load.

import { chromium } from "playwright-core";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const LAUNCH_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
  "--disable-sync",
  "--no-proxy-server",
];
const LOCAL_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);

const STEP_KINDS = [
  "open", "say", "reply", "waitForText", "waitForCardText", "waitForCard", "expectNoReply",
  "click", "choose", "fill", "pause", "screenshot", "sleep",
];

class StepFailure extends Error {}

// A required input's label ends in " *"; match the label with or without it.
const requiredLabel = (label) => new RegExp(`^${label.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\s*\\*?$`);
class UsageError extends Error {}

function parseArgs(argv) {
  const opts = {
    url: "http://127.0.0.1:56150",
    timeoutMs: 20000,
    loadTimeoutMs: 40000,
    artifacts: null,
    viewport: { width: 1400, height: 1000 },
    traffic: false,
    allowBotErrors: false,
    chromium: "/usr/bin/chromium",
    steps: null,
    stepsFromStdin: false,
  };
  const takeValue = (i, name) => {
    if (i + 1 >= argv.length) throw new UsageError(`${name} needs a value`);
    return argv[i + 1];
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    switch (a) {
      case "--url": opts.url = takeValue(i, a); i++; break;
      case "--timeout-ms": opts.timeoutMs = Number(takeValue(i, a)); i++; break;
      case "--load-timeout-ms": opts.loadTimeoutMs = Number(takeValue(i, a)); i++; break;
      case "--artifacts": opts.artifacts = path.resolve(takeValue(i, a)); i++; break;
      case "--chromium": opts.chromium = takeValue(i, a); i++; break;
      case "--viewport": {
        const m = /^(\d+)x(\d+)$/.exec(takeValue(i, a)); i++;
        if (!m) throw new UsageError("--viewport wants WxH, e.g. 1400x1000");
        opts.viewport = { width: Number(m[1]), height: Number(m[2]) };
        break;
      }
      case "--traffic": opts.traffic = true; break;
      case "--allow-bot-errors": opts.allowBotErrors = true; break;
      default:
        if (a.startsWith("--")) throw new UsageError(`unknown option ${a}`);
        if (opts.steps !== null) throw new UsageError("give the steps once (argv or stdin)");
        opts.steps = a;
    }
  }
  if (opts.steps === null) {
    if (process.stdin.isTTY) throw new UsageError("no steps: pass a JSON list as an argument or on stdin");
    opts.steps = fs.readFileSync(0, "utf8");
    opts.stepsFromStdin = true;
  }
  let steps;
  try {
    steps = JSON.parse(opts.steps);
  } catch (e) {
    throw new UsageError(`steps are not JSON: ${e.message}`);
  }
  if (!Array.isArray(steps)) throw new UsageError("steps must be a JSON list");
  for (const [i, step] of steps.entries()) {
    const kinds = Object.keys(step ?? {}).filter((k) => STEP_KINDS.includes(k));
    if (kinds.length !== 1) {
      throw new UsageError(`step ${i} ${JSON.stringify(step)} needs exactly one of ${STEP_KINDS.join(", ")}`);
    }
    if (kinds[0] === "pause" && opts.stepsFromStdin) {
      throw new UsageError("pause needs the steps as an argument: stdin carries the resume signal");
    }
  }
  opts.steps = steps;
  return opts;
}

// Resume signals for "pause" steps: one line on stdin each.
let stdinLines = null;
function nextStdinLine() {
  if (stdinLines === null) {
    stdinLines = { buffered: [], waiting: [], ended: false, partial: "" };
    process.stdin.setEncoding("utf8");
    process.stdin.on("data", (chunk) => {
      const parts = (stdinLines.partial + chunk).split("\n");
      stdinLines.partial = parts.pop();
      for (const line of parts) {
        const w = stdinLines.waiting.shift();
        if (w) w(line);
        else stdinLines.buffered.push(line);
      }
    });
    process.stdin.on("end", () => {
      stdinLines.ended = true;
      for (const w of stdinLines.waiting.splice(0)) w(null);
    });
  }
  if (stdinLines.buffered.length) return Promise.resolve(stdinLines.buffered.shift());
  if (stdinLines.ended) return Promise.resolve(null);
  return new Promise((resolve) => stdinLines.waiting.push(resolve));
}

const norm = (s) => String(s ?? "").replace(/\s+/g, " ").trim();

function matcher(expected) {
  if (expected && typeof expected === "object" && "regex" in expected) {
    const re = new RegExp(expected.regex);
    return { test: (s) => re.test(norm(s)), describe: `/${expected.regex}/` };
  }
  const needle = norm(expected);
  return { test: (s) => norm(s).includes(needle), describe: JSON.stringify(needle) };
}

// Text of an Adaptive Card's JSON, for the record of what arrived (the DOM is what waits check).
function cardJsonText(node, out = []) {
  if (Array.isArray(node)) {
    for (const n of node) cardJsonText(n, out);
    return out;
  }
  if (!node || typeof node !== "object") return out;
  const t = typeof node.type === "string" ? node.type : "";
  if ((t === "TextBlock" || t === "TextRun") && node.text) out.push(String(node.text));
  else if (t === "FactSet") for (const f of node.facts ?? []) out.push(`${f.title}: ${f.value}`);
  else if (t === "Input.ChoiceSet") {
    const titles = (node.choices ?? []).map((c) => c.title);
    out.push(`${node.label ? node.label + " " : ""}(${titles.join(" | ")})`);
  } else if (t.startsWith("Input.") && (node.label || node.placeholder)) out.push(String(node.label ?? node.placeholder));
  else if (t.startsWith("Action.") && node.title) out.push(`[${node.title}]`);
  for (const [k, v] of Object.entries(node)) {
    if (!["data", "facts", "choices", "inlines"].includes(k) && v && typeof v === "object") cardJsonText(v, out);
  }
  if (t === "RichTextBlock") out.push((node.inlines ?? []).map((i) => (typeof i === "string" ? i : i.text ?? "")).join(""));
  return out;
}

function describeAttachments(attachments) {
  return (attachments ?? []).map((a) =>
    a.contentType === "application/vnd.microsoft.card.adaptive"
      ? { contentType: a.contentType, text: cardJsonText(a.content).join("\n") }
      : { contentType: a.contentType, name: a.name },
  );
}

// Runs in the page: the bot's messages in the open conversation view, in DOM order. Chats render
// a bot message as avatar + .fai-OutputCard; channels render replies and posts as a header
// (avatar, name, time) followed by a body. Either way, climb from each bot avatar to the first
// ancestor that holds something besides the avatar, its name and its timestamp.
function collectBotMessages(botName) {
  const isTime = (s) => /^(\d{1,2}\/\d{1,2},?\s*)?\d{1,2}:\d{2}(\s?[AP]M)?$/i.test(s);
  // A bot post in a channel also holds its replies (each with an avatar) and a reply box.
  const isChrome = (el) =>
    el.matches(".fui-CardFooter") ||
    el.querySelector("[contenteditable]") !== null ||
    [...el.querySelectorAll(".fui-Avatar")].some((x) => !x.closest(".ac-adaptiveCard"));
  const meaningful = (el) => {
    if (el.querySelector(".ac-adaptiveCard")) return true;
    const t = (el.innerText || "").trim();
    return t !== "" && t !== botName && !isTime(t);
  };
  // Bars the playground adds under a card ("Your response was sent to the app") are not bot content.
  const BARS = '[aria-label="Display Invoked Message"], [role="status"], .fui-MessageBar';
  const textOf = (el) => {
    let t = el.innerText || "";
    for (const bar of el.querySelectorAll(BARS)) t = t.replace(bar.innerText, "");
    return t;
  };
  const out = [];
  const avatars = [...document.querySelectorAll('[role="img"][aria-label]')].filter(
    (av) =>
      av.getAttribute("aria-label") === botName &&
      !av.closest('[role="tree"], [role="menu"], [role="listbox"], [role="dialog"]'),
  );
  const botAvatarsIn = (el) => avatars.filter((av) => el.contains(av)).length;
  for (const av of avatars) {
    let body = null;
    for (let a = av.parentElement; a && a !== document.body; a = a.parentElement) {
      const alone = botAvatarsIn(a) === 1;
      const card = alone ? a.querySelector(".fai-OutputCard") : null;
      if (card) { body = [card]; break; }
      const rest = [...a.children].filter((c) => !c.contains(av) && !isChrome(c) && meaningful(c));
      if (rest.length) { body = rest; break; }
      // Past another bot message or out of the conversation pane: this avatar has no content of
      // its own (the typing indicator above the compose box).
      if (!alone || a.querySelector('[role="tree"]')) break;
    }
    if (!body) continue;
    const texts = [];
    const cards = [];
    for (const part of body) {
      for (const c of part.querySelectorAll(".ac-adaptiveCard")) cards.push(textOf(c));
      texts.push(textOf(part));
    }
    out.push({
      text: texts.join("\n").split("\n").map((l) => l.trim()).filter(Boolean).join("\n"),
      cards: cards.map((c) => c.split("\n").map((l) => l.trim()).filter(Boolean).join("\n")),
    });
  }
  return out;
}

async function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`drive.mjs: ${e.message}\n`);
    process.stdout.write(JSON.stringify({ ok: false, error: e.message }) + "\n");
    return 2;
  }

  const result = {
    ok: false,
    url: opts.url,
    config: null,
    steps: [],
    messages: [], // bot messages as the playground pushed them, all conversations, arrival order
    visible: [], // bot messages rendered in the open view when the run ended
    screenshots: [],
    traffic: [], // playground <-> bot HTTP exchanges, as the playground's log panel records them
    warnings: [], // the playground's own warnings (bot unreachable, unsupported card features)
    pageErrors: [],
  };
  const startedAt = Date.now();
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "qaloop-drive-"));
  let context = null;
  let exitCode = 1;

  const resolveOut = (p) => path.resolve(opts.artifacts ?? process.cwd(), p);
  const log = (msg) => process.stderr.write(`drive.mjs: ${msg}\n`);

  try {
    // The page learns bot name and conversation ids from here; so do we.
    let config;
    try {
      const r = await fetch(new URL("/_internal/v1/config", opts.url), {
        signal: AbortSignal.timeout(opts.loadTimeoutMs),
      });
      config = (await r.json()).config;
    } catch (e) {
      throw new UsageError(`playground not reachable at ${opts.url}: ${e.message}`);
    }
    const botName = config.bot.name;
    const team = config.teams[0];
    const conversationKinds = new Map([[config.personalChat.id, "personal"]]);
    for (const g of config.groupChats) conversationKinds.set(g.id, "group");
    for (const c of team.channels) conversationKinds.set(c.id, "channel");
    const kindOf = (id) => conversationKinds.get(String(id).split(";")[0]) ?? "other";
    result.config = {
      bot: config.bot,
      currentUser: config.currentUser,
      tenantId: config.tenantId,
      personalChatId: config.personalChat.id,
      groupChat: config.groupChats[0],
      team: { id: team.id, name: team.name, channels: team.channels },
    };

    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: opts.chromium,
      headless: true,
      args: LAUNCH_ARGS,
      viewport: opts.viewport,
    });
    // Nothing leaves the machine: the page asks a CDN for fonts and animations.
    await context.route("**/*", (route) => {
      const host = new URL(route.request().url()).hostname;
      return LOCAL_HOSTS.has(host) ? route.continue() : route.abort("blockedbyclient");
    });
    const page = context.pages()[0] ?? (await context.newPage());
    page.on("pageerror", (e) => result.pageErrors.push(String(e?.message ?? e)));

    const seenLogIds = new Set();
    let conversationSocketOpen = false;
    page.on("websocket", (ws) => {
      if (ws.url().includes("/_ws_conversation/")) conversationSocketOpen = true;
      ws.on("framereceived", (frame) => {
        let data;
        try {
          data = JSON.parse(String(frame.payload));
        } catch {
          return;
        }
        if (data.action === "createMessage" || data.action === "updateMessage") {
          const m = data.message ?? {};
          if (m.from?.id !== config.bot.id) return;
          result.messages.push({
            action: data.action === "createMessage" ? "create" : "update",
            conversation: kindOf(data.actionConversationId),
            conversationId: m.postConversationId ?? data.actionConversationId,
            id: m.messageId,
            text: m.text ?? "",
            attachments: describeAttachments(m.attachments),
          });
        } else if (data.logAction === "appendLog" && data.log && !seenLogIds.has(data.log.id)) {
          const l = data.log;
          seenLogIds.add(l.id);
          if (l.timestamp < startedAt - 1000) return; // history from earlier page loads
          if (l.request) {
            const toBot = l.to === "User Application";
            const entry = {
              direction: toBot ? "toBot" : "fromBot",
              name: l.activityName,
              status: l.response?.statusCode,
              conversationId: l.conversationId,
              summary: l.displayText || undefined,
            };
            if (opts.traffic) {
              entry.request = l.request.body;
              entry.response = l.response?.body;
            }
            result.traffic.push(entry);
          } else if (l.level) {
            result.warnings.push({ level: l.level, text: l.displayText });
          }
        }
      });
    });

    try {
      await page.goto(opts.url, { waitUntil: "load", timeout: opts.loadTimeoutMs });
      await page.locator("[data-lexical-editor=true]").first().waitFor({ timeout: opts.loadTimeoutMs });
      const deadline = Date.now() + 5000;
      while (!conversationSocketOpen && Date.now() < deadline) await page.waitForTimeout(50);
      if (!conversationSocketOpen) throw new Error("the conversation websocket did not open");
    } catch (e) {
      throw new UsageError(`page did not load: ${e.message}`);
    }

    const botErrors = () =>
      opts.allowBotErrors ? [] : result.traffic.filter((t) => t.direction === "toBot" && t.status >= 400);
    const checkBotErrors = () => {
      const errs = botErrors();
      if (errs.length) {
        const e = errs[0];
        throw new StepFailure(`the bot answered ${e.name} with HTTP ${e.status} (see traffic; --allow-bot-errors to ignore)`);
      }
    };
    const readMessages = () => page.evaluate(collectBotMessages, botName);

    let view = "personal";
    let viewLabel = "Personal Chat";
    const seenByView = new Map();
    // Waits look at bot messages that are new or changed since the last action (baseline).
    // expectNoReply also ignores the ones an earlier wait already matched (consumed).
    let baseline = []; // the page starts empty: a welcome sent on page load counts as new
    let consumed = new Set();
    const markBaseline = async () => {
      baseline = await readMessages();
      consumed = new Set();
    };
    // Fresh = not in the baseline, counting duplicates; insertions in earlier channel threads
    // and cards replaced in place both show up.
    const freshMessages = (now) => {
      const left = new Map();
      for (const m of baseline) left.set(m.text, (left.get(m.text) ?? 0) + 1);
      return now.filter((m) => {
        const n = left.get(m.text) ?? 0;
        if (n > 0) left.set(m.text, n - 1);
        return n === 0;
      });
    };

    const waitFor = async (expected, { cardOnly, timeout }) => {
      const m = matcher(expected);
      const deadline = Date.now() + (timeout ?? opts.timeoutMs);
      for (;;) {
        checkBotErrors();
        const fresh = freshMessages(await readMessages());
        const hit = fresh.find((msg) => (cardOnly ? msg.cards.some((c) => m.test(c)) : m.test(msg.text)));
        if (hit) {
          consumed.add(hit.text);
          return hit;
        }
        if (Date.now() > deadline) {
          const seen = fresh.length
            ? fresh.map((x) => `  - ${JSON.stringify(x.text.slice(0, 300))}`).join("\n")
            : "  (no new bot messages)";
          throw new StepFailure(
            `timed out after ${timeout ?? opts.timeoutMs} ms waiting for ${cardOnly ? "card " : ""}text ${m.describe} in the ${view} view; new bot messages:\n${seen}`,
          );
        }
        await page.waitForTimeout(100);
      }
    };

    const editors = () => page.locator("[data-lexical-editor=true]");
    const typeInto = async (editor, text, mention) => {
      await editor.click();
      if (mention) {
        await page.keyboard.type("@" + botName.slice(0, 3));
        const item = page.locator('[role="menuitem"]', { hasText: botName }).first();
        await item.waitFor({ timeout: 5000 });
        await item.click();
        await page.keyboard.type(" ");
      }
      const lines = String(text).split("\n");
      for (const [i, line] of lines.entries()) {
        if (i) await page.keyboard.press("Shift+Enter");
        await page.keyboard.type(line);
      }
      await page.keyboard.press("Enter");
      // The editor empties once the message is handed to the playground.
      const deadline = Date.now() + 5000;
      while ((await editor.innerText()).trim() !== "") {
        if (Date.now() > deadline) throw new StepFailure(`the message ${JSON.stringify(text)} was not sent`);
        await page.waitForTimeout(50);
      }
    };

    // The card to act on: the last card on screen (DOM order) containing `inText`, if given,
    // and passing `has`, if given.
    const targetCard = async (inText, has) => {
      const cards = page.locator(".ac-adaptiveCard");
      const n = await cards.count();
      const m = inText === undefined ? null : matcher(inText);
      for (let i = n - 1; i >= 0; i--) {
        const c = cards.nth(i);
        if (await c.locator("xpath=ancestor::*[@role='tree' or @role='menu']").count()) continue;
        if (m && !m.test(await c.innerText())) continue;
        if (!has || (await has(c))) return c;
      }
      return null;
    };
    const requireCard = async (inText) => {
      const card = await targetCard(inText);
      if (card) return card;
      throw new StepFailure(inText === undefined ? "no Adaptive Card on screen" : `no card containing ${matcher(inText).describe}`);
    };

    const openTarget = (target) => {
      const t = String(target);
      const channelLabel = (name) => `${team.name} - ${name}`;
      if (t === "personal") return { label: "Personal Chat", kind: "personal" };
      if (t === "group") return { label: config.groupChats[0].name, kind: "group" };
      if (t === "channel") return { label: channelLabel(team.channels[0].name), kind: "channel" };
      if (t.startsWith("channel:")) return { label: channelLabel(t.slice(8)), kind: "channel" };
      const kind = t === "Personal Chat" ? "personal" : t.startsWith(`${team.name} - `) ? "channel" : "group";
      return { label: t, kind };
    };

    const runStep = async (step) => {
      if ("open" in step) {
        const { label, kind } = openTarget(step.open);
        const items = page.locator('[role="treeitem"]');
        const labels = await items.evaluateAll((els) => els.map((e) => e.getAttribute("aria-label")));
        const index = labels.indexOf(label);
        if (index < 0) throw new StepFailure(`no conversation ${JSON.stringify(label)}; the playground lists ${JSON.stringify(labels)}`);
        if (label !== viewLabel) {
          seenByView.set(viewLabel, await readMessages());
          await items.nth(index).click();
          // The selected item is styled with one class more than the rest; nothing else marks it.
          await page
            .waitForFunction(
              (i) => {
                const counts = [...document.querySelectorAll('[role="treeitem"]')].map((e) => e.classList.length);
                return counts[i] === Math.max(...counts) && counts.filter((c) => c === counts[i]).length === 1;
              },
              index,
              { timeout: 3000 },
            )
            .catch(() => {});
          await page.waitForTimeout(250);
          view = kind;
          viewLabel = label;
          // New = not seen when we were last in this view (never visited: all of it).
          baseline = seenByView.get(label) ?? [];
          consumed = new Set();
        }
      } else if ("say" in step || "reply" in step) {
        const isReply = "reply" in step;
        if (isReply && view !== "channel") throw new StepFailure("reply only works in a channel view");
        const mention = step.mention ?? view !== "personal";
        const eds = editors();
        if ((await eds.count()) === 0) throw new StepFailure("no compose box on screen");
        await markBaseline();
        // Channel view: the new-post box comes first, then one reply box per thread, newest first.
        if (isReply && (await eds.count()) < 2) throw new StepFailure("no thread to reply to");
        await typeInto(isReply ? eds.nth(1) : eds.first(), isReply ? step.reply : step.say, mention);
      } else if ("waitForText" in step) {
        await waitFor(step.waitForText, { cardOnly: false, timeout: step.timeout });
      } else if ("waitForCardText" in step) {
        await waitFor(step.waitForCardText, { cardOnly: true, timeout: step.timeout });
      } else if ("waitForCard" in step) {
        const ms = step.timeout ?? opts.timeoutMs;
        const deadline = Date.now() + ms;
        while (!(await targetCard(step.waitForCard))) {
          if (Date.now() > deadline) {
            throw new StepFailure(`no card containing ${matcher(step.waitForCard).describe} on screen after ${ms} ms`);
          }
          await page.waitForTimeout(200);
        }
      } else if ("expectNoReply" in step) {
        await page.waitForTimeout(Number(step.expectNoReply));
        checkBotErrors();
        const fresh = freshMessages(await readMessages()).filter((m) => !consumed.has(m.text));
        if (fresh.length) {
          throw new StepFailure(`expected no reply, got: ${fresh.map((f) => JSON.stringify(f.text.slice(0, 200))).join("; ")}`);
        }
      } else if ("click" in step) {
        const title = String(step.click);
        const buttonIn = (c) => c.getByRole("button", { name: title, exact: true });
        const card = await targetCard(step.in, async (c) => (await buttonIn(c).count()) > 0);
        if (!card) {
          const last = await requireCard(step.in);
          const titles = await last.getByRole("button").evaluateAll((els) => els.map((e) => e.getAttribute("aria-label") ?? e.innerText));
          throw new StepFailure(`no card with a button ${JSON.stringify(title)}; the last card has ${JSON.stringify(titles)}`);
        }
        await markBaseline();
        await buttonIn(card).last().click();
      } else if ("choose" in step) {
        const card = await requireCard(step.in);
        const option = String(step.choose);
        const toggle = card.getByRole("radio", { name: option, exact: true }).or(card.getByRole("checkbox", { name: option, exact: true }));
        await markBaseline();
        if (await toggle.count()) {
          await toggle.first().click();
        } else {
          const boxes = step.field ? card.getByRole("combobox", { name: String(step.field) }) : card.getByRole("combobox");
          const n = await boxes.count();
          if (n === 0) throw new StepFailure(`no choice set${step.field ? ` labelled ${JSON.stringify(step.field)}` : ""} in the card`);
          await boxes.nth(n - 1).click();
          const opt = page.getByRole("option", { name: option, exact: true });
          try {
            await opt.first().click({ timeout: 5000 });
          } catch {
            const names = await page.getByRole("option").evaluateAll((els) => els.map((e) => e.innerText));
            throw new StepFailure(`no option ${JSON.stringify(option)}; the list has ${JSON.stringify(names)}`);
          }
        }
      } else if ("fill" in step) {
        const card = await requireCard(step.in);
        const field = step.field === undefined
          ? card.getByRole("textbox")
          : card.getByRole("textbox", { name: String(step.field) })
            .or(card.getByPlaceholder(String(step.field)))
            .or(card.getByLabel(String(step.field), { exact: true })) // date inputs: YYYY-MM-DD
            .or(card.getByLabel(requiredLabel(String(step.field)))); // "Label *" when required
        if ((await field.count()) === 0) throw new StepFailure(`no text input${step.field ? ` ${JSON.stringify(step.field)}` : ""} in the card`);
        await markBaseline();
        await field.filter({ visible: true }).last().fill(String(step.fill));
      } else if ("pause" in step) {
        await markBaseline();
        process.stderr.write(`@@pause ${JSON.stringify(step.pause)}\n`);
        if ((await nextStdinLine()) === null) throw new StepFailure(`stdin closed while paused at ${JSON.stringify(step.pause)}`);
      } else if ("screenshot" in step) {
        const p = resolveOut(step.screenshot);
        fs.mkdirSync(path.dirname(p), { recursive: true });
        if (step.card) {
          // Just the newest card containing this text, whole, however tall it is.
          // (An element screenshot of a card taller than its scrolling pane comes out blank, so
          // clip the page instead; use a tall --viewport for a long card.)
          const card = page.locator(".ac-adaptiveCard").filter({ hasText: step.card }).last();
          await card.scrollIntoViewIfNeeded();
          const box = await card.boundingBox();
          await page.screenshot({ path: p, clip: box ?? undefined });
        } else {
          await page.screenshot({ path: p });
        }
        result.screenshots.push(p);
      } else if ("sleep" in step) {
        await page.waitForTimeout(Number(step.sleep));
      } else {
        throw new UsageError(`unknown step ${JSON.stringify(step)}`);
      }
    };

    try {
      for (const [index, step] of opts.steps.entries()) {
        const t0 = Date.now();
        try {
          await runStep(step);
        } catch (e) {
          result.steps.push({ index, step, ok: false, ms: Date.now() - t0 });
          result.failedStep = { index, step };
          throw e;
        }
        result.steps.push({ index, step, ok: true, ms: Date.now() - t0 });
      }
      await page.waitForTimeout(200); // let late frames land in the record
      checkBotErrors();
      result.ok = true;
      exitCode = 0;
    } finally {
      result.visible = await readMessages().catch(() => []);
      if (!result.ok && opts.artifacts) {
        const p = resolveOut("failure.png");
        fs.mkdirSync(path.dirname(p), { recursive: true });
        await page.screenshot({ path: p }).then(() => result.screenshots.push(p), () => {});
      }
    }
  } catch (e) {
    result.error = e.message;
    exitCode = e instanceof UsageError ? 2 : 1;
    if (!(e instanceof StepFailure) && !(e instanceof UsageError)) result.error = e.stack ?? String(e);
    log((result.failedStep ? `step ${result.failedStep.index} ${JSON.stringify(result.failedStep.step)} failed: ` : "") + result.error);
  } finally {
    if (context) await context.close().catch(() => {});
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
  result.ms = Date.now() - startedAt;
  process.stdout.write(JSON.stringify(result, null, 1) + "\n");
  return exitCode;
}

process.exitCode = await main();
if (stdinLines !== null) process.stdin.destroy(); // else an open stdin pipe keeps node alive
