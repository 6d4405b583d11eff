// Calls to the LakeGuard API from a logged-in page: the session cookie goes by itself, writes
// carry the session's CSRF token, errors become exceptions carrying the problem document.

let csrfToken = null;

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

export async function api(path, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && csrfToken) headers["X-CSRF-Token"] = csrfToken;
  const response = await fetch(`/api/v1${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  if (response.status === 204) return null;
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

// Who is logged in (null when nobody is), remembering the CSRF token for writes.
export async function whoAmI() {
  try {
    const me = await api("/auth/me");
    csrfToken = me.csrf_token;
    return me;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return null;
    throw error;
  }
}

export async function logIn(username, password) {
  const result = await api("/auth/login", { method: "POST", body: { username, password } });
  csrfToken = result.csrf_token;
  return whoAmI();
}

export async function logOut() {
  await api("/auth/logout", { method: "POST" });
  csrfToken = null;
}

// The page's log-in form (#login with #login-error) and log-out button (#logout), then the
// session already open, if any: ``enter`` gets whoever is logged in, ``failed`` gives the text
// for a refused password.
export async function startSession({ enter, failed }) {
  const form = document.getElementById("login");
  const error = document.getElementById("login-error");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    try {
      await enter(await logIn(form.elements.username.value, form.elements.password.value));
    } catch (problem) {
      error.textContent = problem.status === 401 ? failed() : problem.message;
    }
  });
  document.getElementById("logout").onclick = async () => {
    await logOut().catch(() => null);
    location.reload();
  };
  const me = await whoAmI();
  if (me) await enter(me);
  else form.hidden = false;
}
