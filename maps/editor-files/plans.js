// The list of plans: open one, or start one over the current release.
"use strict";

function planLink(id) {
  return "plans/" + id + (EN ? "?lang=en" : "");
}

async function listPlans() {
  const body = document.querySelector("#plans tbody");
  body.innerHTML = "";
  let plans;
  try { plans = await api("GET", "/plans"); } catch (e) { say(e.message, "error"); return; }
  if (!plans.length) {
    body.innerHTML = `<tr><td colspan="6">${esc(t("no_plans"))}</td></tr>`;
    return;
  }
  for (const p of plans) {
    const row = document.createElement("tr");
    row.innerHTML = `<td>${p.id}</td><td><a href="${planLink(p.id)}">${esc(p.title)}</a></td>`
      + `<td>${esc(EN ? p.status : p.status_zh)}</td><td>${esc(p.base_release_id)}</td>`
      + `<td>${p.edits - p.undone}</td><td>${esc(p.updated_at.slice(0, 16).replace("T", " "))}</td>`;
    body.appendChild(row);
  }
}

translatePage();
document.getElementById("new-title").placeholder = t("plan_title_ph");
if (CAN_EDIT) {
  const form = document.getElementById("new-plan");
  form.hidden = false;
  form.addEventListener("submit", async event => {
    event.preventDefault();
    try {
      const plan = await api("POST", "/plans", {title: document.getElementById("new-title").value});
      location.href = planLink(plan.id);
    } catch (e) { say(e.message, "error"); }
  });
}
listPlans();
