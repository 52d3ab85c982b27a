// The touch UI's only script: the PIN pad and the driver's signature pad. Shipped with the
// terminal (no CDN): the car's browser may have no network at all.
"use strict";

function pinPad() {
  const pin = document.getElementById("pin");
  const pad = document.getElementById("pin-pad");
  if (!pin || !pad) return;
  pad.addEventListener("click", (event) => {
    const key = event.target.closest("button");
    if (!key) return;
    if (key.dataset.digit !== undefined && pin.value.length < 16) pin.value += key.dataset.digit;
    if (key.hasAttribute("data-clear")) pin.value = "";
  });
}

function signaturePad() {
  const canvas = document.getElementById("signature-pad");
  const field = document.getElementById("signature");
  const refused = document.getElementById("refused");
  const clear = document.getElementById("clear-signature");
  if (!canvas || !field) return;
  const pen = canvas.getContext("2d");
  pen.lineWidth = 4;
  pen.lineCap = "round";
  pen.lineJoin = "round";
  pen.strokeStyle = "#0b2545";
  let drawing = false;
  let drawn = false;

  // The canvas is drawn at its own resolution and shown scaled by the style sheet.
  function at(event) {
    const box = canvas.getBoundingClientRect();
    return [
      (event.clientX - box.left) * (canvas.width / box.width),
      (event.clientY - box.top) * (canvas.height / box.height),
    ];
  }
  canvas.addEventListener("pointerdown", (event) => {
    if (refused && refused.checked) return;
    drawing = true;
    canvas.setPointerCapture(event.pointerId);
    const [x, y] = at(event);
    pen.beginPath();
    pen.moveTo(x, y);
    pen.lineTo(x + 0.1, y + 0.1);
    pen.stroke();
    drawn = true;
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!drawing) return;
    const [x, y] = at(event);
    pen.lineTo(x, y);
    pen.stroke();
  });
  const stop = () => { drawing = false; };
  canvas.addEventListener("pointerup", stop);
  canvas.addEventListener("pointercancel", stop);
  if (clear) {
    clear.addEventListener("click", () => {
      pen.clearRect(0, 0, canvas.width, canvas.height);
      drawn = false;
      field.value = "";
    });
  }
  if (refused) {
    refused.addEventListener("change", () => {
      canvas.classList.toggle("off", refused.checked);
      if (refused.checked) {
        pen.clearRect(0, 0, canvas.width, canvas.height);
        drawn = false;
      }
    });
    canvas.classList.toggle("off", refused.checked);
  }
  canvas.form = canvas.closest("form");
  canvas.form.addEventListener("submit", () => {
    field.value = drawn && !(refused && refused.checked) ? canvas.toDataURL("image/png") : "";
  });
}

document.addEventListener("DOMContentLoaded", () => {
  pinPad();
  signaturePad();
});
