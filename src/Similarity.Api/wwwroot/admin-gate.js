// The admin pages' key gate: the #key-form asks for the admin key, #admin shows once there is one, #forget drops it.
// A 401 from the API forgets the key and asks again.
import { adminKey, say } from "/app.js";

const field = (id) => document.getElementById(id);

/** Wires the gate; onReady runs each time a key is there to use. Returns a handler for a failed call. */
export function adminGate(status, onReady) {
  const show = () => {
    const hasKey = Boolean(adminKey.get());
    field("key-form").hidden = hasKey;
    field("admin").hidden = !hasKey;
    if (hasKey) onReady();
  };
  field("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    adminKey.set(field("key").value.trim());
    field("key").value = "";
    say(status, "");
    show();
  });
  field("forget").addEventListener("click", () => { adminKey.clear(); show(); });
  show();
  return (error) => {
    if (error.status === 401) {
      adminKey.clear();
      show();
      say(status, "That admin key was refused; enter it again.", true);
    } else {
      say(status, error.message, true);
    }
  };
}
