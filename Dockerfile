# bron-broker image: builds the TypeScript and runs the broker against external PostgreSQL and Redis.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY bench ./bench
COPY test ./test
COPY workers ./workers
COPY wsdl ./wsdl
COPY xsd ./xsd
COPY bin ./bin
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/src/infra/migrations ./src/infra/migrations
COPY --from=build /app/src/operator/http/dashboard ./src/operator/http/dashboard
COPY --from=build /app/wsdl ./wsdl
COPY --from=build /app/xsd ./xsd
COPY --from=build /app/bin ./bin
USER node
EXPOSE 8080
CMD ["node", "dist/src/main.js"]
