// The widget's own words, in the languages the templates ship. The chat's
// language is the browser's (then the one the server picked in welcome).
const en = {
  open: "Open the chat",
  close: "Close the chat",
  placeholder: "Type a message…",
  send: "Send",
  typing: "is typing…",
  connecting: "Connecting…",
  offline: "Offline. Reconnecting…",
  unavailable: "The chat is unavailable on this page.",
  closed: "This conversation has ended.",
  restart: "Start a new conversation",
  retry: "Retry",
  sending: "Sending…",
  notSent: "Not sent",
  poweredBy: "Frontdesk",
};
type Words = typeof en;
const fr: Words = {
  open: "Ouvrir le chat",
  close: "Fermer le chat",
  placeholder: "Écrivez un message…",
  send: "Envoyer",
  typing: "écrit…",
  connecting: "Connexion…",
  offline: "Hors ligne. Reconnexion…",
  unavailable: "Le chat n'est pas disponible sur cette page.",
  closed: "Cette conversation est terminée.",
  restart: "Nouvelle conversation",
  retry: "Réessayer",
  sending: "Envoi…",
  notSent: "Non envoyé",
  poweredBy: "Frontdesk",
};
const de: Words = {
  open: "Chat öffnen",
  close: "Chat schließen",
  placeholder: "Nachricht schreiben…",
  send: "Senden",
  typing: "schreibt…",
  connecting: "Verbinde…",
  offline: "Offline. Verbinde erneut…",
  unavailable: "Der Chat ist auf dieser Seite nicht verfügbar.",
  closed: "Dieses Gespräch ist beendet.",
  restart: "Neues Gespräch",
  retry: "Erneut versuchen",
  sending: "Wird gesendet…",
  notSent: "Nicht gesendet",
  poweredBy: "Frontdesk",
};
const es: Words = {
  open: "Abrir el chat",
  close: "Cerrar el chat",
  placeholder: "Escribe un mensaje…",
  send: "Enviar",
  typing: "está escribiendo…",
  connecting: "Conectando…",
  offline: "Sin conexión. Reconectando…",
  unavailable: "El chat no está disponible en esta página.",
  closed: "Esta conversación ha terminado.",
  restart: "Nueva conversación",
  retry: "Reintentar",
  sending: "Enviando…",
  notSent: "No enviado",
  poweredBy: "Frontdesk",
};
const all: Record<string, Words> = { en, fr, de, es };

export function words(lang: string): Words {
  const l = (lang || "en").toLowerCase();
  return all[l] || all[l.split("-")[0]] || en;
}
export type { Words };
