import DRAWS
import DRCore
import Foundation

/// `dr check`'s application lines for an rds target with `app:` — could its application come
/// up in the DR region right now? Read-only:
///
/// - `app_dr_service`: the DR-region service (`app.dr_cluster`/`app.dr_service` in `dr_region`)
///   exists and is ACTIVE.
/// - `app_dr_images`: every image of its task definition is in the DR region's registry (ECR
///   `DescribeImages`): an image in another region's registry is gone with that region, so it
///   fails; one outside ECR cannot be checked (a warning).
/// - `app_dr_desired`: its desired count is what the target says (`app.desired`, the pilot
///   light's 0 or a warm standby's count): fewer tasks than planned fails (not as ready as the
///   plan says), more is a warning (ready, but not what dr.yml says).
///
/// A check that cannot read what it needs (an AWS error after retries) fails, saying why.
struct AppReadiness {
    let provider: RDSProvider
    let app: AppSettings

    func checks() async -> [ReadinessCheck] {
        let target = provider.target.name
        guard let region = provider.settings.drRegion else {
            return [ReadinessCheck("app_dr_service", .failed, found: "target \(target) has `app:` but no `dr_region:`, so there is no DR-region service",
                                   fix: "add `dr_region:` to the target in dr.yml, with `app.dr_cluster`/`app.dr_service` naming the service there")]
        }
        let place = "ECS service \(app.drService) in cluster \(app.drCluster) (\(region))"
        let service: ECSService?
        do {
            service = try await provider.session.ecs(region).service(cluster: app.drCluster, name: app.drService)
        } catch let error as AWSError where error.code == "ClusterNotFoundException" {
            return [ReadinessCheck("app_dr_service", .failed, found: "there is no ECS cluster \(app.drCluster) in \(region)",
                                   fix: "create the cluster and the service in \(region), or correct `app.dr_cluster` in dr.yml")]
        } catch {
            return [Self.unreadable("app_dr_service", place, error)]
        }
        guard let service else {
            return [ReadinessCheck("app_dr_service", .failed, found: "there is no \(place) (ECS reports it MISSING)",
                                   fix: "create the service in \(region) at \(app.desired) task\(app.desired == 1 ? "" : "s"), or correct `app.dr_cluster`/`app.dr_service` in dr.yml")]
        }
        guard service.status == "ACTIVE" else {
            return [ReadinessCheck("app_dr_service", .failed, found: "the \(place) is \(service.status ?? "in no known state")",
                                   fix: "recreate the service in \(region): a \(service.status ?? "") service cannot be scaled up")]
        }
        let runs = service.taskDefinitionRevision?.description ?? service.taskDefinition ?? "no task definition"
        return [ReadinessCheck("app_dr_service", .ok, found: "\(place) is ACTIVE, runs \(runs)"),
                await images(service, region: region),
                desired(service, place: place)]
    }

    /// Whether every image of the service's task definition is in `region`'s registry, checked concurrently.
    func images(_ service: ECSService, region: String) async -> ReadinessCheck {
        let name = "app_dr_images"
        guard let definitionName = service.taskDefinition else {
            return ReadinessCheck(name, .failed, found: "the DR service names no task definition", fix: "deploy a task definition to the DR service")
        }
        let images: [String]
        do {
            images = try await provider.session.ecs(region).describeTaskDefinition(definitionName).images
        } catch {
            return Self.unreadable(name, "task definition \(definitionName)", error)
        }
        guard !images.isEmpty else { return ReadinessCheck(name, .failed, found: "task definition \(definitionName) has no container image") }
        enum Found: Sendable { case present, elsewhere(String), missing, notECR, unreadable(String) }
        let found: [(String, Found)]
        do {
            let ecr = try provider.session.ecr(region)
            found = await withTaskGroup(of: (Int, String, Found).self) { group in
                for (i, image) in images.enumerated() {
                    group.addTask {
                        guard let reference = ECRImageReference(image) else { return (i, image, .notECR) }
                        guard reference.region == region else { return (i, image, .elsewhere(reference.region)) }
                        do { return (i, image, try await ecr.image(reference) == nil ? .missing : .present) }
                        catch { return (i, image, .unreadable(Self.describe(error))) }
                    }
                }
                var all: [(Int, String, Found)] = []
                for await item in group { all.append(item) }
                return all.sorted { $0.0 < $1.0 }.map { ($0.1, $0.2) }
            }
        } catch {
            return Self.unreadable(name, "the registry in \(region)", error)
        }
        var failed: [String] = [], unknown: [String] = [], present = 0
        for (image, state) in found {
            switch state {
            case .present: present += 1
            case .elsewhere(let other): failed.append("\(image) is in \(other)'s registry, not \(region)'s")
            case .missing: failed.append("\(image) is not in the registry")
            case .notECR: unknown.append("\(image) is not in ECR (not checked)")
            case .unreadable(let why): failed.append("\(image) could not be read (\(why))")
            }
        }
        let summary = "\(present) of \(images.count) image\(images.count == 1 ? "" : "s") of \(definitionName.split(separator: "/").last ?? "") in \(region)'s ECR"
        if !failed.isEmpty {
            return ReadinessCheck(name, .failed, found: ([summary] + failed + unknown).joined(separator: "; "),
                                  fix: "replicate the repositories to \(region) (ECR replication) and point the DR task definition at \(region)'s registry; a region failure takes the other region's registry with it")
        }
        if !unknown.isEmpty {
            return ReadinessCheck(name, .warning, found: ([summary] + unknown).joined(separator: "; "),
                                  fix: "keep the images in \(region)'s ECR so dr can check them and a failover does not depend on another registry")
        }
        return ReadinessCheck(name, .ok, found: summary)
    }

    func desired(_ service: ECSService, place: String) -> ReadinessCheck {
        let found = "the \(place) wants \(service.desiredCount) task\(service.desiredCount == 1 ? "" : "s") (\(service.runningCount) running); dr.yml says \(app.desired)"
        if service.desiredCount == app.desired { return ReadinessCheck("app_dr_desired", .ok, found: found) }
        if service.desiredCount < app.desired {
            return ReadinessCheck("app_dr_desired", .failed, found: found,
                                  fix: "scale the DR service to \(app.desired) (dr app scale), or set `app.desired` to the standby you keep")
        }
        return ReadinessCheck("app_dr_desired", .warning, found: found,
                              fix: "scale the DR service back to \(app.desired) after a failover or a test, or set `app.desired` to the standby you keep")
    }

    static func unreadable(_ name: String, _ what: String, _ error: Error) -> ReadinessCheck {
        ReadinessCheck(name, .failed, found: "could not read \(what): \(describe(error))",
                       fix: "check that dr's role may call ecs:DescribeServices, ecs:DescribeTaskDefinition and ecr:DescribeImages in the DR region")
    }

    static func describe(_ error: Error) -> String {
        switch error {
        case let error as AWSError: return error.summary
        case let error as DRError: return error.message
        default: return "\(error)"
        }
    }
}

extension RDSProvider {
    /// The application lines of `dr check` (`AppReadiness`); none for a target without `app:`.
    func appReadinessChecks() async -> [ReadinessCheck] {
        guard let app = settings.app else { return [] }
        return await AppReadiness(provider: self, app: app).checks()
    }
}
