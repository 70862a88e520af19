// Shared by the plans list and the editor: words, the API client, the language switch.
"use strict";
const W = window.WANGGE;
const EN = W.lang === "en";

function t(key, values) {
  let s = (W.texts && W.texts[key]) || key;
  for (const [k, v] of Object.entries(values || {})) s = s.split("{" + k + "}").join(String(v));
  return s;
}

function esc(value) {
  return String(value == null ? "" : value).replace(/[&<>"']/g,
    c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
}

// A message from the API in the page's language.
function said(obj) {
  if (!obj) return "";
  return (EN ? obj.message_en || obj.message : obj.message || obj.message_en) || "";
}

class ApiError extends Error {
  constructor(status, body) {
    super(said(body) || ("HTTP " + status));
    this.status = status;
    this.body = body || {};
  }
}

// The key, when the page was not opened through something that adds it (a proxy, a test).
function storedKey() {
  try { return sessionStorage.getItem("wangge-key") || ""; } catch (e) { return ""; }
}

// The session's CSRF token (cookie wangge_csrf, set at login): writes echo it in X-CSRF-Token.
function csrfToken() {
  const found = document.cookie.split("; ").find(c => c.startsWith("wangge_csrf="));
  return found ? decodeURIComponent(found.slice("wangge_csrf=".length)) : "";
}

// Requests in flight, on <body data-pending> (tests and the busy cursor read it).
let pending = 0;
function track(delta) {
  pending += delta;
  document.body.dataset.pending = String(pending);
}

async function api(method, path, body, raw) {
  track(1);
  try { return await call(method, path, body, raw); } finally { track(-1); }
}

async function call(method, path, body, raw) {
  const headers = {};
  const key = storedKey();
  if (key) headers["X-API-Key"] = key;
  const csrf = method === "GET" || method === "HEAD" ? "" : csrfToken();
  if (csrf) headers["X-CSRF-Token"] = csrf;
  let payload;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) { headers["Content-Type"] = "application/json"; payload = JSON.stringify(body); }
  const response = await fetch(W.api + path, {method, headers, body: payload});
  if (response.status === 401) showKeyBox();
  if (!response.ok) {
    let detail = null;
    try { detail = await response.json(); } catch (e) { /* not JSON */ }
    throw new ApiError(response.status, detail);
  }
  return raw ? response : response.json();
}

function showKeyBox() {
  const box = document.getElementById("keybox");
  if (!box) return;
  box.hidden = false;
  if (!document.getElementById("login-link")) {   // people log in; systems bring a key
    const link = document.createElement("a");
    link.id = "login-link";
    link.href = "/login?" + new URLSearchParams({next: location.pathname + location.search,
                                                  lang: EN ? "en" : "zh"});
    link.textContent = t("log_in");
    box.appendChild(document.createTextNode(" "));
    box.appendChild(link);
  }
  document.getElementById("key-save").onclick = () => {
    try { sessionStorage.setItem("wangge-key", document.getElementById("key").value.trim()); } catch (e) { /* private mode */ }
    location.reload();
  };
}

function translatePage() {
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
  const lang = document.getElementById("lang");
  if (lang) {
    const url = new URL(location.href);
    url.searchParams.set("lang", EN ? "zh" : "en");
    lang.href = url.pathname + url.search;
    lang.textContent = t("language");
  }
}

function say(text, kind) {
  const el = document.getElementById("message");
  if (!el) return;
  el.textContent = text || "";
  el.className = "message" + (kind ? " " + kind : "");
}

const CAN_EDIT = W.role === "planner" || W.role === "admin";
