// The Lua action HAProxy's forward-auth configuration loads (haproxy.ts): one sub-request to the
// gateway per request with core.httpclient (HAProxy 2.6+), then the gateway's headers on the
// request, or its answer (login redirect, refusal page) to the browser.
import type { ForwardAuthContract } from './contract.js'

export function haproxyLua(c: ForwardAuthContract): string {
  return `-- Généré par « psc-gateway forward-auth haproxy-lua » depuis ${c.source}.
-- Action http-request lua.psc_forward_auth <passerelle host:port> <chemin> <en-têtes,séparés,par,virgules>
-- Demande à la passerelle si la requête est autorisée (forme en-têtes : X-Original-URI,
-- X-Original-Method), avec le cookie de session du navigateur. Ne transmet rien d'autre du client.
-- Une passerelle qui ne répond pas (5 s par essai) vaut une passerelle injoignable (503).

local function value(headers, name)
  local v = headers[name] or headers[string.lower(name)]
  if v == nil then return nil end
  if type(v) == "table" then return v[0] or v[1] end
  return v
end

local function split(list)
  local names = {}
  for name in string.gmatch(list, "[^,]+") do names[#names + 1] = name end
  return names
end

local function answer(txn, status, headers, body)
  local reply = txn:reply()
  reply:set_status(status)
  for name, v in pairs(headers) do reply:add_header(name, v) end
  reply:add_header("cache-control", "no-store")
  if body ~= nil then reply:set_body(body) end
  txn:done(reply)
end

core.register_action("psc_forward_auth", { "http-req" }, function(txn, gateway, path, copy)
  local names = split(copy)
  local asked = {
    ["X-Original-URI"] = { txn.f:pathq() },
    ["X-Original-Method"] = { txn.f:method() },
    ["X-Forwarded-Host"] = { txn.f:req_hdr("host") or "" },
    ["X-Forwarded-Proto"] = { txn.f:ssl_fc() and "https" or "http" },
    ["X-Forwarded-For"] = { txn.f:src() },
    ["Accept"] = { txn.f:req_fhdr("accept") or "*/*" },
    ["Accept-Language"] = { txn.f:req_fhdr("accept-language") or "" }
  }
  local cookie = txn.f:req_fhdr("cookie")
  if cookie ~= nil then asked["Cookie"] = { cookie } end
  local ok, res = pcall(function()
    return core.httpclient():get{ url = "http://" .. gateway .. path, headers = asked, timeout = 5000 }
  end)
  local status = ok and res ~= nil and tonumber(res.status) or 0
  if status >= 200 and status < 300 then
    -- Autorisé : chaque en-tête configuré prend la valeur de la passerelle, ou aucune.
    for _, name in ipairs(names) do
      txn.http:req_del_header(name)
      local v = value(res.headers, name)
      if v ~= nil and v ~= "" then txn.http:req_set_header(name, v) end
    end
    local renewed = value(res.headers, "set-cookie")
    if renewed ~= nil then txn:set_var("txn.psc_set_cookie", renewed) end
    return
  end
  if status == 401 then
    -- Pas de session : vers la connexion, qui ramène le navigateur à la page demandée.
    answer(txn, 302, { location = value(res.headers, "x-auth-request-redirect") or "${c.prefix}/login" }, nil)
    return
  end
  -- Sans X-PSC-Error, la réponse n'est pas de la passerelle (HAProxy répond 503 quand elle est
  -- injoignable) : jamais l'application.
  if status == 0 or value(res.headers, "x-psc-error") == nil then
    core.Warning("psc_forward_auth: gateway " .. gateway .. " not answering")
    answer(txn, 503, { ["content-type"] = "text/plain; charset=utf-8" }, "Service d'authentification indisponible. Réessayez dans quelques minutes.\\n")
    return
  end
  -- Refusé (403), ou refusé avant toute règle : la page de la passerelle, avec son statut.
  answer(txn, status, { ["content-type"] = value(res.headers, "content-type") or "text/html; charset=utf-8" }, res.body)
end, 3)
`
}
