// The release site's only script (rollout site): a Copy button beside each feed address.
// Everything works without it: the address is a field that can be selected and copied.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const status = document.querySelector(".subscribe .status");
  for (const button of document.querySelectorAll("button[data-copy]")) {
    const field = document.getElementById(button.dataset.copy);
    if (!field) {
      continue;
    }
    const label = button.textContent;
    const say = (text) => {
      button.textContent = text;
      if (status) {
        status.textContent = text === "Copied" ? "The address is on the clipboard." : text;
      }
      window.setTimeout(() => {
        button.textContent = label;
      }, 2000);
    };
    button.hidden = false;
    button.addEventListener("click", () => {
      field.focus();
      field.select();
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(
          () => say("Copied"),
          () => say("Press Ctrl+C to copy"),
        );
      } else {
        say("Press Ctrl+C to copy");
      }
    });
  }
});
