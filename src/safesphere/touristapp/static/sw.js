// SafeSphere tourist app service worker: keeps the app's own files so it opens offline. API answers are
// never cached (they are personal and must be fresh); offline, the page says so and shows what it had.
"use strict";

const CACHE = "safesphere-app-v1";
const SHELL = ["/app/", "/app/app.js", "/app/app.css", "/app/manifest.webmanifest", "/app/icon.svg"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names.filter((name) => name !== CACHE).map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  );
});

// The shell: network first (a new version is picked up at once), the cached copy when offline.
self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin || !SHELL.includes(url.pathname)) {
    return;
  }
  event.respondWith(
    fetch(event.request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(event.request, copy));
        }
        return response;
      })
      .catch(() => caches.match(event.request).then((cached) => cached || Response.error())),
  );
});

// Web Push: a warning, an anomaly alert or an SOS confirmation, shown as a notification.
self.addEventListener("push", (event) => {
  let message = { title: "SafeSphere", body: "" };
  try {
    message = Object.assign(message, event.data ? event.data.json() : {});
  } catch (_) {
    message.body = event.data ? event.data.text() : "";
  }
  event.waitUntil(
    self.registration.showNotification(message.title, { body: message.body, icon: "/app/icon.svg", tag: message.tag }),
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(self.clients.openWindow("/app/"));
});
