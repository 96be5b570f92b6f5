// The page of `summarize serve`: a form for /v1/summarize, the record it returns with each
// summary sentence's evidence lit up in the document as read, and the decoder's cross-attention
// (/v1/attention/{id}) drawn over the source tokens. No framework, no build step, nothing
// fetched from outside this server.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const MAIN = ["max_length", "min_length", "num_beams", "temperature"];
  const MORE = ["strategy", "no_repeat_ngram_size", "length_penalty", "repetition_penalty", "top_k", "top_p", "seed",
                "max_words", "max_sentences"];
  const FAINT = 10;  // weights under 4% of a row's largest are left unpainted: noise, not signal
  const NUMERIC = new Set([...MAIN, ...MORE].filter((name) => name !== "strategy"));
  const TYPES = { txt: "text/plain", md: "text/markdown", markdown: "text/markdown", html: "text/html",
                  htm: "text/html", pdf: "application/pdf" };
  const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)");
  const KEY = "summarizer-api-key";  // sessionStorage: kept for this tab, gone when it closes

  const state = {
    model: null,        // GET /v1/model
    file: null,         // the File to upload instead of the text box
    request: null,      // AbortController of the summary in flight
    view: null,         // the record's "attention" (id, layers, heads, tokens, read)
    rows: null,         // {rows, peaks} of the selected layer and head
    cache: new Map(),   // "layer/head" -> {rows, peaks}, for the current view
    srcEls: [],         // a span per source token
    sumEls: [],         // a span per summary token
    shown: null,        // Uint8Array: what each source span shows now
    active: null,       // the summary token whose attention is drawn
    pinned: null,       // the one clicked, tapped or focused: shown again when the pointer leaves
    positions: null,    // source spans' tops and heights, for the minimap
    summary: "",        // the summary as plain text: what "Copy summary" copies
    evidence: null,     // {items, rows, marks, active, lit}: the record's evidence as shown
  };

  // ---- Tokens, readable ---------------------------------------------------------------------

  const SPECIAL = /^(<\/?[A-Za-z][\w|-]*>|\[[A-Z]+\])$/;  // </s> <pad> <unk> <extra_id_0> <s> [SEP] <|endoftext|>
  const BYTE_FALLBACK = /^<0x([0-9A-Fa-f]{2})>$/;         // SentencePiece byte fallback, e.g. <0x0A>

  // GPT-2's byte-level BPE writes each byte as a printable character; this undoes it.
  const UNICODE_TO_BYTE = (() => {
    const map = new Map();
    const kept = [];
    for (let b = 33; b <= 126; b++) kept.push(b);
    for (let b = 161; b <= 172; b++) kept.push(b);
    for (let b = 174; b <= 255; b++) kept.push(b);
    const keptSet = new Set(kept);
    kept.forEach((b) => map.set(String.fromCharCode(b), b));
    let shifted = 0;
    for (let b = 0; b < 256; b++) {
      if (!keptSet.has(b)) map.set(String.fromCharCode(256 + shifted++), b);
    }
    return map;
  })();

  /** Each piece as {lead, text, special, newlines}: lead is a word start (a space before it). */
  function readPieces(tokens) {
    const byteLevel = !tokens.some((t) => t.includes("\u2581")) && tokens.some((t) => /[\u0120\u010a]/.test(t));
    const decoder = new TextDecoder("utf-8");
    return tokens.map((token) => {
      const byte = BYTE_FALLBACK.exec(token);
      if (byte) return plain(decoder.decode(new Uint8Array([parseInt(byte[1], 16)]), { stream: true }));
      if (token === "<n>") return plain("\n");  // Pegasus's newline
      if (SPECIAL.test(token)) return { lead: false, text: token, special: true, newlines: 0 };
      if (byteLevel && [...token].every((ch) => UNICODE_TO_BYTE.has(ch))) {
        const bytes = Uint8Array.from([...token], (ch) => UNICODE_TO_BYTE.get(ch));
        return plain(decoder.decode(bytes, { stream: true }));
      }
      return plain(token.replace(/\u2581/g, " "));
    });
  }

  function plain(text) {
    const newlines = (text.match(/\n/g) || []).length;
    const flat = text.replace(/\n/g, "");
    const lead = flat.startsWith(" ") && !newlines;
    return { lead, text: lead ? flat.slice(1) : flat, special: false, newlines };
  }

  /** The pieces in `container`, a span each (returned in order); the word-start space sits
   *  outside the span so a highlight covers the word, not the gap before it. */
  function renderPieces(container, pieces, options) {
    const fragment = document.createDocumentFragment();
    let lineStart = true;
    const spans = pieces.map((piece, i) => {
      const span = document.createElement("span");
      span.className = options.className;
      span.dataset.i = i;
      if (piece.special) {
        span.classList.add("special");
        span.textContent = piece.text;
      } else if (piece.newlines) {
        span.classList.add("newline");
        span.textContent = piece.text || "\u21b5";
      } else if (piece.lead && !piece.text) {
        span.classList.add("space");
        span.textContent = " ";
      } else {
        if (piece.lead && !lineStart) fragment.append(" ");
        span.textContent = piece.text || "\u00b7";
        if (!piece.text) span.classList.add("partial");
      }
      if (options.decorate) options.decorate(span, piece, i);
      fragment.append(span);
      for (let n = 0; n < Math.min(piece.newlines, 2); n++) fragment.append(document.createElement("br"));
      lineStart = piece.newlines > 0;
      return span;
    });
    container.replaceChildren(fragment);
    return spans;
  }

  /** A piece in words: what a screen reader says, and the page shows for the invisible ones. */
  function label(piece) {
    if (piece.special) return piece.text;
    if (piece.newlines) return "line break";
    if (piece.lead && !piece.text) return "space";
    return piece.text || "part of a character";
  }

  /** A piece as a chip shows it: visible marks for a space or a line break. */
  function chip(piece) {
    const span = document.createElement("span");
    span.className = "chip-tok";
    if (piece.lead && !piece.text && !piece.special) span.textContent = "\u2423";
    else if (piece.newlines) span.textContent = "\u21b5";
    else span.textContent = piece.text || "\u00b7";
    if (span.textContent !== piece.text) span.setAttribute("aria-label", label(piece));
    return span;
  }

  /** How many leading source pieces spell the model's task prefix ("summarize: "). */
  function prefixLength(pieces, prefix) {
    const wanted = (prefix || "").trim();
    if (!wanted) return 0;
    let text = "";
    for (let i = 0; i < Math.min(pieces.length, 64); i++) {
      const piece = pieces[i];
      if (piece.special) return 0;
      text += (piece.lead ? " " : "") + piece.text;
      const trimmed = text.trim();
      if (trimmed === wanted) return i + 1;
      if (trimmed.length > wanted.length || !wanted.startsWith(trimmed)) return 0;
    }
    return 0;
  }

  /** Source piece `j` inside its word ("f" as f|irst), a chip that points at it in the pane. */
  function inWord(j) {
    const pieces = state.srcPieces;
    const joins = (k) => k >= 0 && k < pieces.length && !pieces[k].special && !pieces[k].newlines && pieces[k].text;
    const piece = pieces[j];
    const span = chip(piece);
    span.dataset.j = j;
    span.title = `source token ${j + 1}`;
    if (!joins(j)) return span;
    let start = j;
    while (!pieces[start].lead && joins(start - 1)) start--;
    let end = j;
    while (joins(end + 1) && !pieces[end + 1].lead) end++;
    if (start === end) return span;
    const text = (from, to) => pieces.slice(from, to).map((p) => p.text).join("");
    const own = document.createElement("b");
    own.textContent = piece.text;
    const before = document.createElement("span");
    before.className = "ctx";
    before.textContent = text(start, j);
    const after = document.createElement("span");
    after.className = "ctx";
    after.textContent = text(j + 1, end + 1);
    span.replaceChildren(before, own, after);
    span.setAttribute("aria-label", `${piece.text} in ${text(start, end + 1)}`);
    return span;
  }

  // ---- The API key, when the server asks for one ---------------------------------------------------

  /** Headers for /v1/*: the key, once one was given in this tab. */
  function auth(headers = {}) {
    const key = sessionStorage.getItem(KEY);
    return key ? { ...headers, Authorization: `Bearer ${key}` } : headers;
  }

  /** A 401: forget a key the server did not take, and ask for one (once; kept for the tab). */
  function askForKey(message) {
    sessionStorage.removeItem(KEY);
    const form = $("key-form");
    $("key-error").textContent = message || "";
    $("key-error").hidden = !message;
    form.hidden = false;
    $("api-key").focus();
  }

  function wireKey() {
    $("key-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const key = $("api-key").value.trim();
      if (!key) return;
      sessionStorage.setItem(KEY, key);
      $("api-key").value = "";
      $("key-form").hidden = true;
      loadModel();
    });
  }

  // ---- The model and its defaults ---------------------------------------------------------------

  async function loadModel() {
    const line = $("model-line");
    try {
      const response = await fetch("/v1/model", { headers: auth({ Accept: "application/json" }) });
      const data = await response.json();
      if (response.status === 401) {
        line.textContent = "This server needs an API key.";
        return askForKey(sessionStorage.getItem(KEY) ? data.error : "");
      }
      if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
      line.classList.remove("bad");
      state.model = data;
      const name = String(data.model || "");
      const short = name.replace(/[\\/]+$/, "").split(/[\\/]/).pop() || name;
      const parts = [];
      if (data.family) parts.push(`${data.family}${data.model_type ? ` (${data.model_type})` : ""}`);
      parts.push(short);
      if (data.window) parts.push(`window ${data.window.toLocaleString()} tokens`);
      if (data.backend || data.device) parts.push([data.backend, data.device].filter(Boolean).join(" on "));
      line.textContent = parts.join(" · ");
      line.title = name;
      for (const name of [...MAIN, ...MORE]) {
        const value = data.settings?.[name]?.value;
        const input = $(name);
        if (!input) continue;
        input.value = value === null || value === undefined ? "" : String(value);
        const origin = data.settings?.[name]?.from;
        if (origin) input.title = `default ${value === null ? "none" : value} (from ${origin})`;
      }
      $("whole_sentences").checked = Boolean(data.settings?.whole_sentences?.value);
      keepWithinLimits(data.limits || {});
    } catch (error) {
      line.textContent = `Could not read the model's settings: ${error.message}`;
      line.classList.add("bad");
    }
  }

  /** The server's limits as the controls' bounds (a request over them would be refused). */
  function keepWithinLimits(limits) {
    for (const name of ["max_length", "min_length"]) {
      if (limits.max_new_tokens) $(name).max = String(limits.max_new_tokens);
    }
    if (limits.max_beams) $("num_beams").max = String(limits.max_beams);
    const bounds = [limits.max_new_tokens && `${limits.max_new_tokens} tokens`, limits.max_beams && `${limits.max_beams} beams`];
    $("limits-line").textContent = bounds.some(Boolean) ? `This server allows at most ${bounds.filter(Boolean).join(" and ")}.` : "";
  }

  // ---- The form ----------------------------------------------------------------------------------

  function settings() {
    const chosen = {};
    const defaults = state.model?.settings || {};
    for (const name of [...MAIN, ...MORE]) {
      const raw = $(name).value.trim();
      if (raw === "") continue;
      let value = NUMERIC.has(name) ? Number(raw) : raw;
      if (NUMERIC.has(name) && !Number.isFinite(value)) continue;
      const most = Number($(name).max);
      if (NUMERIC.has(name) && $(name).max !== "" && value > most) {
        value = most;  // kept within the server's limit, and shown so
        $(name).value = String(most);
      }
      const fallback = defaults[name]?.value;
      if (MORE.includes(name) && fallback !== undefined && value === fallback) continue;  // unchanged
      chosen[name] = value;
    }
    // A length in words or sentences replaces the one in tokens (the server refuses both at once).
    if ("max_words" in chosen || "max_sentences" in chosen) delete chosen.max_length;
    const whole = $("whole_sentences").checked;
    if (whole !== Boolean(defaults.whole_sentences?.value)) chosen.whole_sentences = whole;
    chosen.attention = $("attention").checked;
    return chosen;
  }

  function buildRequest() {
    const chosen = settings();
    if (state.file) {
      const form = new FormData();
      const file = state.file;
      const extension = (file.name.split(".").pop() || "").toLowerCase();
      const type = file.type || TYPES[extension] || "application/octet-stream";
      form.append("file", file.type ? file : new File([file], file.name, { type }));
      for (const [key, value] of Object.entries(chosen)) form.append(key, String(value));
      form.append("document", "true");  // an upload's text is only known to the server
      return { body: form, headers: {} };
    }
    return { body: JSON.stringify({ text: $("text").value, ...chosen, document: true }),
             headers: { "Content-Type": "application/json" } };
  }

  async function submit(event) {
    event.preventDefault();
    const limit = state.model?.limits?.max_body;
    if (state.file && limit && state.file.size > limit) {
      return showError(`${state.file.name}: the file is larger than the server accepts (${size(limit)})`);
    }
    state.request?.abort();
    const controller = new AbortController();
    state.request = controller;
    const { body, headers } = buildRequest();
    const started = performance.now();
    const button = $("submit");
    button.disabled = true;
    button.textContent = "Summarizing…";
    $("result").setAttribute("aria-busy", "true");
    $("error").hidden = true;
    const status = $("status");
    status.hidden = false;
    status.classList.remove("sr-only");
    status.textContent = "Summarizing…";
    const ticker = setInterval(() => {
      status.textContent = `Summarizing… ${Math.round((performance.now() - started) / 1000)} s`;
    }, 1000);
    try {
      const response = await fetch("/v1/summarize", { method: "POST", body, headers: auth(headers), signal: controller.signal });
      const data = await readJSON(response);
      if (response.status === 401) askForKey(data?.error);
      if (!response.ok) {
        let message = data?.error || `HTTP ${response.status} ${response.statusText}`.trim();
        const retry = response.headers.get("Retry-After");
        if (response.status === 503 && retry) message += ` (try again in ${retry} s)`;
        showError(message, response.status);
      } else {
        showRecord(data);
      }
    } catch (error) {
      if (error.name !== "AbortError") showError(`Could not reach the server: ${error.message}`);
    } finally {
      clearInterval(ticker);
      if (state.request === controller) {
        state.request = null;
        button.disabled = false;
        button.textContent = "Summarize";
        $("result").removeAttribute("aria-busy");
      }
    }
  }

  async function readJSON(response) {
    const text = await response.text();
    try {
      return JSON.parse(text);
    } catch {
      return response.ok ? { error: "the server's answer is not JSON" } : { error: firstLine(text) };
    }
  }

  function firstLine(text) {
    const line = String(text || "").split("\n").map((l) => l.trim()).find(Boolean);
    return line ? line.slice(0, 300) : "";
  }

  function showError(message, status) {
    $("output").hidden = true;
    $("evid").hidden = true;
    $("attn").hidden = true;
    $("status").hidden = true;
    const box = $("error");
    box.textContent = message;
    box.dataset.status = status || "";
    box.hidden = false;
  }

  function showRecord(record) {
    $("error").hidden = true;
    state.summary = record.summary || "";
    showSummary(record);
    $("stat-input").textContent = number(record.input_tokens);
    $("stat-summary").textContent = number(record.summary_tokens);
    $("stat-ratio").textContent = record.compression_ratio == null ? "—" : `${ratio(record.compression_ratio)}×`;
    $("stat-ratio").title = "input tokens ÷ summary tokens";
    $("stat-time").textContent = `${seconds(record.seconds)} s`;
    $("stat-chunks").textContent = number(record.chunks);
    $("stat-levels").textContent = number(record.levels);
    const warning = $("warning");
    warning.textContent = record.warning || "";
    warning.hidden = !record.warning;
    $("run-line").textContent = [record.backend, record.device].filter(Boolean).join(" on ");
    $("output").hidden = false;
    const status = $("status");
    status.hidden = false;
    status.classList.add("sr-only");
    status.textContent = `Done: ${number(record.summary_tokens)} summary tokens from ${number(record.input_tokens)} in ${seconds(record.seconds)} s.`;
    showEvidence(record);
    showAttention(record);
    if (window.matchMedia("(max-width: 959px)").matches) {
      const box = $("result").getBoundingClientRect();
      if (box.top < 0 || box.top > window.innerHeight * 0.6) $("result").scrollIntoView({ block: "start", behavior: scrollBehavior() });
    }
  }

  const number = (n) => (typeof n === "number" ? n.toLocaleString() : "—");
  const ratio = (r) => (r >= 100 ? r.toFixed(0) : r >= 10 ? r.toFixed(1) : r.toFixed(2));
  const seconds = (s) => (typeof s !== "number" ? "—" : s < 10 ? s.toFixed(2) : s.toFixed(1));
  const size = (n) => (n >= 1e6 ? `${(n / 1e6).toFixed(n % 1e6 ? 1 : 0)} MB` : n >= 1e3 ? `${Math.round(n / 1e3)} KB` : `${n} bytes`);
  const scrollBehavior = () => (reducedMotion.matches ? "auto" : "smooth");

  // ---- A file instead of the text box ------------------------------------------------------

  function setFile(file) {
    state.file = file || null;
    $("file-chip").hidden = !file;
    $("file-name").textContent = file ? `${file.name} (${size(file.size)})` : "";
    const text = $("text");
    text.disabled = Boolean(file);
    text.setAttribute("aria-disabled", String(Boolean(file)));
    $("drop").classList.toggle("has-file", Boolean(file));
    if (!file) $("file").value = "";
  }

  function wireFiles() {
    $("file").addEventListener("change", (event) => setFile(event.target.files[0]));
    $("file-clear").addEventListener("click", () => { setFile(null); $("text").focus(); });
    const drop = $("drop");
    let depth = 0;
    const hasFiles = (event) => Array.from(event.dataTransfer?.types || []).includes("Files");
    window.addEventListener("dragenter", (event) => {
      if (!hasFiles(event)) return;
      depth++;
      drop.classList.add("dragging");
    });
    window.addEventListener("dragleave", () => {
      depth = Math.max(0, depth - 1);
      if (!depth) drop.classList.remove("dragging");
    });
    window.addEventListener("dragover", (event) => { if (hasFiles(event)) event.preventDefault(); });
    window.addEventListener("drop", (event) => {
      if (!hasFiles(event)) return;
      event.preventDefault();  // never let the browser navigate to the dropped file
      depth = 0;
      drop.classList.remove("dragging");
      const file = event.dataTransfer.files[0];
      if (file) setFile(file);
    });
  }

  function countText() {
    const value = $("text").value;
    const words = (value.match(/\S+/g) || []).length;
    const plural = (n, noun) => `${n.toLocaleString()} ${noun}${n === 1 ? "" : "s"}`;
    $("text-count").textContent = `${plural(value.length, "character")}, ${plural(words, "word")}`;
  }

  // ---- Evidence: the source sentences behind each summary sentence ------------------------------

  const UNITS = { chunk: ["chunk", "chunks"], page: ["page", "pages"], heading: ["section", "sections"],
                  position: ["fifth", "fifths"] };
  const plural = (n, [one, many]) => `${number(n)} ${n === 1 ? one : many}`;
  const keyOf = (source) => `${source.start}:${source.end}`;
  const where = (source) => (source.page != null ? `page ${source.page}` : `line ${source.line}`);
  const named = (unit) => unit.label.replace(/^#+\s*/, "");  // a Markdown heading without its marks

  /** The UTF-16 index of each of `offsets`, which count code points (Python's string indexes):
   *  every emoji or other character beyond U+FFFF before a span shifts it by one in JavaScript.
   *  One pass over `text`, however many offsets; none at all when it has no such character. */
  function utf16(text, offsets) {
    const at = new Map();
    if (!/[\uD800-\uDFFF]/.test(text)) {
      for (const n of offsets) at.set(n, Math.min(n, text.length));
      return at;
    }
    let points = 0;
    let units = 0;
    for (const n of [...new Set(offsets)].sort((a, b) => a - b)) {
      while (points < n && units < text.length) {
        const pair = text.codePointAt(units) > 0xffff;
        units += pair ? 2 : 1;
        points++;
      }
      at.set(n, units);
    }
    return at;
  }

  /** How many code points `text` holds: the unit of the server's offsets. */
  const codePoints = (text) => text.length - (text.match(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g) || []).length;

  /** The summary: sentence by sentence with a badge each when the record has evidence, else as
   *  plain text. */
  function showSummary(record) {
    const box = $("summary");
    const items = Array.isArray(record.evidence) ? record.evidence : [];
    box.classList.toggle("empty", !record.summary);
    box.classList.toggle("sents", items.length > 0);
    if (!items.length) {
      box.removeAttribute("role");
      box.removeAttribute("aria-label");
      box.textContent = record.summary || "(the summary is empty)";
      return;
    }
    box.setAttribute("role", "listbox");
    box.setAttribute("aria-label", "Summary sentences: select one to light up its sources");
    const text = record.summary;
    const at = utf16(text, items.flatMap((s) => [s.start, s.end]));
    const fragment = document.createDocumentFragment();
    items.forEach((sentence, i) => {
      const row = document.createElement("div");
      row.className = `sent ${sentence.supported ? "ok" : "doubt"}`;
      row.dataset.i = i;
      row.setAttribute("role", "option");
      row.setAttribute("aria-selected", "false");
      row.tabIndex = i === 0 ? 0 : -1;
      const own = text.slice(at.get(sentence.start), at.get(sentence.end)) || sentence.text;
      const { marked, left } = underline(own, sentence.unsupported || []);
      const body = document.createElement("span");
      body.className = "sent-text";
      body.append(marked);
      row.append(badge(sentence), body);
      if (left.length) {
        const line = document.createElement("span");
        line.className = "sent-left";
        line.textContent = `Not in the source: ${left.join(", ")}`;
        row.append(line);
      }
      fragment.append(row);
    });
    box.replaceChildren(fragment);
  }

  /** ✓ and the score, or ? and the score: the verdict at a glance, and in words for a screen
   *  reader (role img: its label is what is read, not the symbol). */
  function badge(sentence) {
    const span = document.createElement("span");
    span.className = "badge";
    span.setAttribute("role", "img");
    const score = Number(sentence.score || 0).toFixed(2);
    const verdict = sentence.supported ? "supported by the source" : "not supported by the source";
    span.setAttribute("aria-label", `${verdict}, score ${score}`);
    span.title = `${verdict[0].toUpperCase()}${verdict.slice(1)} (score ${score}: the share of its content the cited sentences hold)`;
    span.textContent = `${sentence.supported ? "\u2713" : "?"} ${score}`;
    return span;
  }

  /** The sentence with what its source lacks underlined; `left` are the items not found in it
   *  (a dropped negation is by nature not in the summary). A word is matched whole, case aside,
   *  else anywhere ("not" inside "cannot", the "n't" of "didn't"). */
  function underline(text, items) {
    const ranges = [];
    const left = [];
    for (const item of items) {
      if (item.startsWith("negation dropped:")) {
        left.push(item);
        continue;
      }
      const word = item.startsWith("negation: ") ? item.slice("negation: ".length) : item;
      const whole = occurrences(text, word, true);
      const found = whole.length ? whole : occurrences(text, word, false);
      if (found.length) ranges.push(...found);
      else left.push(item);
    }
    ranges.sort((a, b) => a[0] - b[0]);
    const marked = document.createDocumentFragment();
    let last = 0;
    for (const [start, end] of ranges) {
      if (end <= last) continue;
      const from = Math.max(start, last);
      if (from > last) marked.append(text.slice(last, from));
      const u = document.createElement("u");
      u.className = "miss";
      u.title = "not in the source";
      u.textContent = text.slice(from, end);
      marked.append(u);
      last = end;
    }
    marked.append(text.slice(last));
    return { marked, left };
  }

  function occurrences(text, word, whole) {
    if (!word) return [];
    const escaped = word.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
    const pattern = whole ? `(?<![\\p{L}\\p{N}])${escaped}(?![\\p{L}\\p{N}])` : escaped;
    return [...text.matchAll(new RegExp(pattern, "giu"))].map((m) => [m.index, m.index + m[0].length]);
  }

  /** The evidence card: the document as read with every cited sentence marked, the coverage
   *  strip, and the totals line under the summary. */
  function showEvidence(record) {
    const items = Array.isArray(record.evidence) ? record.evidence : [];
    state.evidence = null;
    const totals = $("grounding");
    totals.textContent = record.note || "";
    totals.hidden = !record.note;
    if (!items.length) {
      $("evid").hidden = true;
      return;
    }
    const coverage = record.coverage;
    const parts = [`${number(record.supported)} of ${plural(record.sentences, ["sentence", "sentences"])} supported`];
    if (coverage?.total) {
      const kind = UNITS[coverage.by] || ["part", "parts"];
      parts.push(`draws on ${number(coverage.cited)} of ${plural(coverage.total, kind)}`);
    }
    if (record.note) parts.push(record.note);
    totals.textContent = parts.join(" \u00b7 ");
    totals.hidden = false;

    const sources = new Map();  // each source sentence once, whichever summary sentences name it
    items.forEach((sentence) => {
      for (const source of sentence.evidence || []) {
        const key = keyOf(source);
        const known = sources.get(key) || { ...source, key, cited: false };
        known.cited ||= sentence.supported;  // what an unsupported sentence was compared with is no citation
        sources.set(key, known);
      }
    });
    const whole = typeof record.document === "string";
    const pane = $("evid-source");
    const marks = whole ? markDocument(pane, record.document, [...sources.values()])
                        : listCited(pane, [...sources.values()]);
    $("evid-over").textContent = whole
      ? "The document as read; the sentences the summary cites are marked. Click, tap or focus a summary sentence to light up its sources; arrow keys move, Esc clears."
      : "The document is too long to show here (over 2 million characters): these are the sentences the summary was checked against. Click, tap or focus a summary sentence to light up its sources.";
    pane.scrollTop = 0;
    const rows = [...$("summary").querySelectorAll(".sent")];
    const units = coverage?.units || [];
    const extent = whole ? codePoints(record.document) : Math.max(1, ...units.map((u) => u.end));
    state.evidence = { items, rows, marks, active: null, lit: [], coverage, extent };
    drawCover();
    explain();
    $("evid").hidden = false;
  }

  /** The document in `pane`: one text node per stretch between marks, a <mark> per stretch a
   *  source sentence covers (two that overlap share the marks of their common stretch), so a
   *  2 MB document costs a few elements. Returns key -> its marks. */
  function markDocument(pane, text, sources) {
    const at = utf16(text, sources.flatMap((s) => [s.start, s.end]));
    const spans = sources.map((s) => ({ ...s, a: at.get(s.start), b: at.get(s.end) })).filter((s) => s.b > s.a);
    const edges = [...new Set(spans.flatMap((s) => [s.a, s.b]))].sort((x, y) => x - y);
    const marks = new Map(sources.map((s) => [s.key, []]));
    const fragment = document.createDocumentFragment();
    let last = 0;
    for (let n = 0; n + 1 < edges.length; n++) {
      const [a, b] = [edges[n], edges[n + 1]];
      const covering = spans.filter((s) => s.a <= a && s.b >= b);
      if (!covering.length) continue;
      if (a > last) fragment.append(text.slice(last, a));
      const mark = document.createElement("mark");
      mark.textContent = text.slice(a, b);
      mark.title = where(covering[0]);
      mark.classList.toggle("cited", covering.some((s) => s.cited));
      covering.forEach((s) => marks.get(s.key).push(mark));
      fragment.append(mark);
      last = b;
    }
    if (last < text.length) fragment.append(text.slice(last));
    pane.classList.remove("only");
    pane.replaceChildren(fragment);
    return marks;
  }

  /** No document to show (over the server's 2 MB): the source sentences alone, in order. */
  function listCited(pane, sources) {
    const marks = new Map();
    const fragment = document.createDocumentFragment();
    [...sources].sort((x, y) => x.start - y.start).forEach((source) => {
      const p = document.createElement("p");
      const place = document.createElement("span");
      place.className = "where";
      place.textContent = where(source);
      const mark = document.createElement("mark");
      mark.textContent = source.text;
      mark.classList.toggle("cited", source.cited);
      p.append(place, " ", mark);
      fragment.append(p);
      marks.set(source.key, [mark]);
    });
    if (!sources.length) fragment.append("The summary cites no sentence of the document.");
    pane.classList.add("only");
    pane.replaceChildren(fragment);
    return marks;
  }

  /** Select summary sentence `index` (null: none): its sources lit, the pane scrolled to the
   *  first of them in the document, what they are said in words. */
  function choose(index, { focus = false } = {}) {
    const view = state.evidence;
    if (!view) return;
    view.active = index;
    view.rows.forEach((row, i) => {
      const on = i === index;
      row.setAttribute("aria-selected", String(on));
      row.tabIndex = on || (index === null && i === 0) ? 0 : -1;
    });
    view.lit.forEach((mark) => mark.classList.remove("lit", "weak"));
    view.lit = [];
    if (index !== null) {
      const sentence = view.items[index];
      const sources = [...(sentence.evidence || [])].sort((a, b) => a.start - b.start);
      view.lit = sources.flatMap((source) => view.marks.get(keyOf(source)) || []);
      view.lit.forEach((mark) => mark.classList.add("lit", ...(sentence.supported ? [] : ["weak"])));
      if (focus) view.rows[index].focus({ preventScroll: true });
      if (view.lit.length) keepVisible($("evid-source"), view.lit[0]);
    }
    explain();
    drawCover();
  }

  /** The selected sentence's verdict and sources in words, each source a button that shows it
   *  in the pane; for an unsupported one, what it was compared with and what the source lacks. */
  function explain() {
    const view = state.evidence;
    const box = $("evid-focus");
    if (view.active === null) {
      box.textContent = view.rows.length > 1
        ? "Select a summary sentence to see the source sentences behind it."
        : "Select the summary sentence to see the source sentences behind it.";
      box.classList.add("idle");
      return;
    }
    box.classList.remove("idle");
    const sentence = view.items[view.active];
    const score = Number(sentence.score || 0).toFixed(2);
    const strong = document.createElement("strong");
    strong.textContent = `Sentence ${view.active + 1}`;
    const parts = [strong];
    const sources = sentence.evidence || [];
    if (sentence.supported) {
      parts.push(` is supported (${score}) by `);
    } else {
      parts.push(` is not supported (${score}). `, sources.length ? "It was compared with " : "Nothing in the source comes close.");
    }
    sources.forEach((source, n) => {
      if (n) parts.push(n === sources.length - 1 ? " and " : ", ");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "where-chip";
      button.dataset.k = keyOf(source);
      button.textContent = where(source);
      button.title = `Show it in the document (score ${Number(source.score || 0).toFixed(2)})`;
      parts.push(button);
    });
    if (sources.length) parts.push(".");
    const missing = sentence.unsupported || [];
    if (missing.length) {
      parts.push(" Not in the source: ");
      missing.forEach((item, n) => {
        if (n) parts.push(", ");
        const u = document.createElement("u");
        u.className = "miss";
        u.textContent = item;
        parts.push(u);
      });
      parts.push(".");
    }
    box.replaceChildren(...parts);
  }

  /** Which parts of the document the summary draws on (faint), and where the selected
   *  sentence's sources sit (strong): positions in characters of the document. */
  function drawCover() {
    const view = state.evidence;
    const strip = $("cover");
    const units = view.coverage?.units || [];
    const total = Math.max(1, view.extent);
    const bar = (start, end, className) => {
      const div = document.createElement("div");
      div.className = className;
      div.style.left = `${(100 * start / total).toFixed(3)}%`;
      div.style.width = `${Math.max(0.6, 100 * (end - start) / total).toFixed(3)}%`;
      return div;
    };
    const shown = units.filter((u) => u.sentences || units.length <= 200);  // every unit, or the cited ones of many
    const bars = shown.map((u) => {
      const div = bar(u.start, u.end, `unit${u.sentences ? " cited" : ""}`);
      div.title = `${named(u)}: ${u.sentences ? `cited by ${plural(u.sentences, ["sentence", "sentences"])}` : "not cited"}`;
      return div;
    });
    if (view.active !== null) {
      for (const source of view.items[view.active].evidence || []) bars.push(bar(source.start, source.end, "here"));
    }
    strip.replaceChildren(...bars);
    const cited = units.filter((u) => u.sentences).map(named);
    $("cover-line").textContent = !units.length ? "" : !cited.length ? "nothing"
      : cited.length > 4 ? `${cited.slice(0, 3).join(", ")} and ${cited.length - 3} more` : cited.join(", ");
    $("cover-wrap").hidden = !units.length;
  }

  function wireEvidence() {
    const box = $("summary");
    const row = (event) => event.target.closest(".sent[data-i]");
    box.addEventListener("focusin", (event) => {
      const at = row(event);
      if (at && state.evidence?.active !== Number(at.dataset.i)) choose(Number(at.dataset.i));
    });
    box.addEventListener("click", (event) => {
      const at = row(event);
      if (at && state.evidence?.active !== Number(at.dataset.i)) choose(Number(at.dataset.i), { focus: true });
    });
    box.addEventListener("keydown", (event) => {
      const view = state.evidence;
      const at = row(event);
      if (!view || !at) return;
      const count = view.rows.length;
      const here = Number(at.dataset.i);
      const moves = { ArrowDown: here + 1, ArrowRight: here + 1, ArrowUp: here - 1, ArrowLeft: here - 1, Home: 0, End: count - 1 };
      if (event.key in moves) {
        event.preventDefault();
        choose(Math.min(count - 1, Math.max(0, moves[event.key])), { focus: true });
      } else if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        choose(here);
      } else if (event.key === "Escape") {
        event.preventDefault();
        choose(null);
      }
    });
    $("evid").addEventListener("keydown", (event) => {
      if (event.key === "Escape" && state.evidence?.active != null) {
        event.preventDefault();
        choose(null);
      }
    });
    $("evid-focus").addEventListener("click", (event) => {
      const chipEl = event.target.closest(".where-chip");
      const marks = chipEl && state.evidence?.marks.get(chipEl.dataset.k);
      if (marks?.length) keepVisible($("evid-source"), marks[0]);
    });
  }

  // ---- Cross-attention -----------------------------------------------------------------------

  function showAttention(record) {
    const section = $("attn");
    const view = record.attention;
    state.view = null;
    state.rows = null;
    state.cache = new Map();
    state.active = null;
    state.pinned = null;
    if (!view) {
      section.hidden = true;
      return;
    }
    section.hidden = false;
    const error = $("attn-error");
    if (view.error) {
      error.textContent = `The attention cannot be shown: ${view.error}`;
      error.hidden = false;
      $("attn-body").hidden = true;
      $("attn-over").textContent = "";
      $("layer").disabled = $("head").disabled = true;
      return;
    }
    error.hidden = true;
    $("attn-body").hidden = false;
    state.view = view;
    const over = view.read === "the document"
      ? "Attention over: the document."
      : `Attention over: ${view.read} (the chunk summaries: the document took ${number(record.chunks)} chunks in ${number(record.levels)} passes).`;
    $("attn-over").textContent = `${over} ${view.layers} layers × ${view.heads} heads; each row is scaled to its largest weight.`;
    options($("layer"), view.layers, "layer");
    options($("head"), view.heads, "head");

    const sourcePieces = readPieces(view.source_tokens);
    const prefix = prefixLength(sourcePieces, state.model?.settings?.prefix?.value);
    state.srcEls = renderPieces($("src-tokens"), sourcePieces, {
      className: "tok src",
      decorate(span, piece, i) {
        if (i < prefix) {
          span.classList.add("prompt");
          span.title = "the model's task prefix";
        }
      },
    });
    state.srcPieces = sourcePieces;
    state.shown = new Uint8Array(sourcePieces.length);
    $("src-count").textContent = `${number(sourcePieces.length)} tokens`;

    const summaryPieces = readPieces(view.summary_tokens);
    state.sumPieces = summaryPieces;
    state.sumEls = renderPieces($("sum-tokens"), summaryPieces, {
      className: "tok sum",
      decorate(span, piece, i) {
        span.setAttribute("role", "option");
        span.setAttribute("aria-selected", "false");
        span.tabIndex = i === 0 ? 0 : -1;
        if (piece.special || piece.newlines || !piece.text) span.setAttribute("aria-label", label(piece));
      },
    });
    $("src-tokens").scrollTop = 0;
    $("top").textContent = "Hover, tap or focus a summary token to see the source tokens it attended to.";
    measure();
    loadRows();
  }

  function options(select, count, noun) {
    const chosen = [new Option(`All (mean)`, "")];
    for (let i = 0; i < count; i++) chosen.push(new Option(`${noun === "layer" ? "Layer" : "Head"} ${i + 1}`, String(i)));
    select.replaceChildren(...chosen);
    select.disabled = count < 1;
  }

  async function loadRows() {
    const view = state.view;
    if (!view) return;
    const layer = $("layer").value;
    const head = $("head").value;
    const key = `${layer}/${head}`;
    const body = $("attn-body");
    let rows = state.cache.get(key);
    if (!rows) {
      body.setAttribute("aria-busy", "true");
      body.classList.add("loading");
      const query = new URLSearchParams();
      if (layer !== "") query.set("layer", layer);
      if (head !== "") query.set("head", head);
      try {
        const response = await fetch(`/v1/attention/${encodeURIComponent(view.id)}?${query}`, { headers: auth() });
        const data = await readJSON(response);
        if (!response.ok) {
          const message = response.status === 404
            ? "This attention view is gone from the server (it keeps the last few); summarize again."
            : data.error || `HTTP ${response.status}`;
          throw new Error(message);
        }
        rows = data;
        state.cache.set(key, rows);
      } catch (error) {
        if (state.view !== view) return;
        const box = $("attn-error");
        box.textContent = error.message.startsWith("This attention") ? error.message : `Could not load the attention: ${error.message}`;
        box.hidden = false;
        return;
      } finally {
        if (state.view === view) {
          body.removeAttribute("aria-busy");
          body.classList.remove("loading");
        }
      }
    }
    if (state.view !== view || `${$("layer").value}/${$("head").value}` !== key) return;  // overtaken
    $("attn-error").hidden = true;
    state.rows = rows;
    $("src-tokens").dataset.view = key;
    draw({ scroll: false });
  }

  function activate(index, { focus = false, pin = false } = {}) {
    if (!state.view) return;
    if (pin || index === null) state.pinned = index;
    const previous = state.active;
    state.active = index;
    state.sumEls.forEach((span, i) => {
      const on = i === index;
      span.classList.toggle("active", on);
      span.setAttribute("aria-selected", String(on));
      span.tabIndex = on || (index === null && i === 0) ? 0 : -1;
    });
    if (index !== null) {
      const span = state.sumEls[index];
      if (focus) span.focus({ preventScroll: true });
      keepVisible($("sum-tokens"), span);
    }
    if (previous !== index || index === null) draw({ scroll: true });
  }

  /** Paint the active summary token's row over the source tokens. */
  function draw({ scroll }) {
    const pane = $("src-tokens");
    const row = state.active !== null && state.rows ? state.rows.rows[state.active] : null;
    const shown = state.shown;
    state.srcEls.forEach((span, j) => {
      const raw = row ? row[j] || 0 : 0;
      const value = raw >= FAINT ? raw : 0;
      if (value === shown[j]) return;
      shown[j] = value;
      if (value) {
        span.style.setProperty("--w", (value / 255).toFixed(3));
        span.dataset.w = value;
      } else {
        span.style.removeProperty("--w");
        delete span.dataset.w;
      }
      span.classList.toggle("lit", value > 0);
      span.classList.toggle("strong", value >= 140);
    });
    pane.classList.toggle("has-row", Boolean(row));
    pane.dataset.active = state.active === null ? "" : String(state.active);
    describe(row);
    if (row && scroll) {
      let best = 0;
      row.forEach((value, j) => { if (value > row[best]) best = j; });
      keepVisible(pane, state.srcEls[best]);
    }
    drawMinimap();
  }

  /** The active token and where it looks most, in words (also what a screen reader hears). */
  function describe(row) {
    const top = $("top");
    if (!row) {
      top.textContent = state.active === null
        ? "Hover, tap or focus a summary token to see the source tokens it attended to."
        : "Loading the attention…";
      return;
    }
    const peak = state.rows.peaks[state.active];
    const ranked = row.map((value, j) => [value, j]).filter(([value]) => value > 0)
      .sort((a, b) => b[0] - a[0]).slice(0, 5);
    const parts = [];
    const strong = (text) => {
      const b = document.createElement("strong");
      b.textContent = text;
      return b;
    };
    const own = chip(state.sumPieces[state.active]);
    own.classList.add("own");
    parts.push("Token ", strong(String(state.active + 1)), " ", own, " attends most to ");
    ranked.forEach(([value, j], n) => {
      if (n) parts.push(", ");
      parts.push(inWord(j), ` ${(value / 255 * peak).toFixed(2)}`);
    });
    parts.push(".");
    top.replaceChildren(...parts);
  }

  /** Scroll `pane` (never the page) so that `el` is in view. */
  function keepVisible(pane, el) {
    if (!el || pane.scrollHeight <= pane.clientHeight) return;
    const paneBox = pane.getBoundingClientRect();
    const box = el.getBoundingClientRect();
    const top = box.top - paneBox.top + pane.scrollTop;
    const bottom = top + box.height;
    if (top >= pane.scrollTop + 4 && bottom <= pane.scrollTop + pane.clientHeight - 4) return;
    pane.scrollTo({ top: Math.max(0, top - pane.clientHeight / 3), behavior: scrollBehavior() });
  }

  function wireAttention() {
    const pane = $("sum-tokens");
    pane.addEventListener("mouseover", (event) => {
      const span = event.target.closest(".tok.sum");
      if (span) activate(Number(span.dataset.i));
    });
    pane.addEventListener("mouseleave", () => {
      if (state.pinned !== null && state.active !== state.pinned) activate(state.pinned);
    });
    pane.addEventListener("focusin", (event) => {
      const span = event.target.closest(".tok.sum");
      if (span) activate(Number(span.dataset.i), { pin: true });
    });
    pane.addEventListener("click", (event) => {
      const span = event.target.closest(".tok.sum");
      if (span) activate(Number(span.dataset.i), { focus: true, pin: true });
    });
    pane.addEventListener("keydown", (event) => {
      const count = state.sumEls.length;
      if (!count) return;
      const at = state.active ?? -1;
      const moves = { ArrowRight: at + 1, ArrowDown: at + 1, ArrowLeft: at - 1, ArrowUp: at - 1, Home: 0, End: count - 1 };
      if (event.key in moves) {
        event.preventDefault();
        activate(Math.min(count - 1, Math.max(0, moves[event.key])), { focus: true, pin: true });
      } else if (event.key === "Escape") {
        event.preventDefault();
        activate(null);
      }
    });
    $("layer").addEventListener("change", loadRows);
    $("head").addEventListener("change", loadRows);
    $("pieces").addEventListener("change", (event) => $("attn-body").classList.toggle("pieces", event.target.checked));

    const source = $("src-tokens");
    source.addEventListener("mouseover", (event) => {
      const span = event.target.closest(".tok.src");
      if (!span || !state.rows || state.active === null) return;
      const j = Number(span.dataset.i);
      const value = state.rows.rows[state.active][j] || 0;
      const peak = state.rows.peaks[state.active];
      span.title = `${label(state.srcPieces[j])}: weight ${(value / 255 * peak).toFixed(3)} (${Math.round(value / 2.55)}% of the row's largest)`;
    });
    const top = $("top");
    top.addEventListener("mouseover", (event) => {
      const chipEl = event.target.closest(".chip-tok[data-j]");
      source.querySelector(".tok.pointed")?.classList.remove("pointed");
      if (!chipEl) return;
      const span = state.srcEls[Number(chipEl.dataset.j)];
      span.classList.add("pointed");
      keepVisible(source, span);
    });
    top.addEventListener("mouseleave", () => source.querySelector(".tok.pointed")?.classList.remove("pointed"));
    source.addEventListener("scroll", () => drawMinimap(), { passive: true });
    const minimap = $("minimap");
    const jump = (event) => {
      const box = minimap.getBoundingClientRect();
      const at = (event.clientY - box.top) / box.height;
      source.scrollTop = at * source.scrollHeight - source.clientHeight / 2;
    };
    minimap.addEventListener("pointerdown", (event) => {
      minimap.setPointerCapture(event.pointerId);
      jump(event);
    });
    minimap.addEventListener("pointermove", (event) => { if (minimap.hasPointerCapture(event.pointerId)) jump(event); });
    new ResizeObserver(() => { measure(); drawMinimap(); }).observe(source);
  }

  // ---- The minimap: where the attention falls in a source longer than its pane -------------------

  function measure() {
    const pane = $("src-tokens");
    state.positions = state.srcEls.map((span) => [span.offsetTop, span.offsetHeight]);
    $("minimap").hidden = pane.scrollHeight <= pane.clientHeight + 2;
  }

  function drawMinimap() {
    const canvas = $("minimap");
    const pane = $("src-tokens");
    if (canvas.hidden || !state.positions) return;
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth;
    const height = canvas.clientHeight;
    if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
    }
    const context = canvas.getContext("2d");
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.clearRect(0, 0, width, height);
    const styles = getComputedStyle(canvas);
    const total = pane.scrollHeight || 1;
    const heat = styles.getPropertyValue("--heat").trim() || "245 158 11";
    state.positions.forEach(([top, tall], j) => {
      const value = state.shown[j];
      if (value < 48) return;
      context.fillStyle = `rgb(${heat} / ${value / 255})`;
      context.fillRect(0, (top / total) * height, width, Math.max(2, (tall / total) * height));
    });
    context.strokeStyle = styles.getPropertyValue("--accent").trim() || "#2855c5";
    context.lineWidth = 1.5;
    context.strokeRect(0.75, (pane.scrollTop / total) * height + 0.75, width - 1.5,
                       Math.max(4, (pane.clientHeight / total) * height - 1.5));
  }

  // ---- Start ------------------------------------------------------------------------------------

  /** The summary's plain text, never the badges shown beside its sentences. */
  function copySummary() {
    const text = state.summary;
    const button = $("copy");
    const done = () => {
      button.textContent = "Copied";
      setTimeout(() => { button.textContent = "Copy summary"; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, () => {});
    } else {  // plain http on another host: the old way, through a box that holds only the text
      const box = document.createElement("textarea");
      box.value = text;
      box.setAttribute("readonly", "");
      box.className = "sr-only";
      document.body.append(box);
      box.select();
      if (document.execCommand("copy")) done();
      box.remove();
      button.focus();
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("form").addEventListener("submit", submit);
    $("text").addEventListener("input", countText);
    $("text").addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        $("form").requestSubmit();
      }
    });
    $("copy").addEventListener("click", copySummary);
    wireFiles();
    wireEvidence();
    wireAttention();
    wireKey();
    countText();
    loadModel();
  });
})();
