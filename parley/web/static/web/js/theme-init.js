// Applies the saved theme before the first paint (a classic script: no flash of the wrong theme).
(function () {
  try {
    var t = localStorage.getItem("parley-theme");
    if (t === "light" || t === "dark") document.documentElement.dataset.theme = t;
  } catch (e) { /* storage disabled: follow the system */ }
})();
