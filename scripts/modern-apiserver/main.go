// Command apiextensions-apiserver is the project's "modern" test API server: the Kubernetes
// 1.36 generic API server with apiextensions (CustomResourceDefinitions and custom resources)
// and nothing else. scripts/install-modern-apiserver.sh builds it in GOPATH mode from Debian's
// Go packages of k8s.io/apiextensions-apiserver; tests/harness starts it on loopback.
//
// Why not the module's own main (k8s.io/apiextensions-apiserver/main.go): standalone, that
// binary is not usable for client tests. This main differs in exactly these points:
//
//   - No core kube-apiserver is required. Without --kubeconfig the server runs without core
//     informers, so without admission plugins (each default plugin needs them) and without
//     priority-and-fairness (max-in-flight limits apply). The stock binary waits forever for
//     the core informers and /readyz stays 500.
//   - Authentication and authorization kubeconfigs are optional: client certificates
//     (--client-ca-file), static tokens (--token-auth-file) and the always-allow groups
//     (system:masters by default) decide; every other identity gets 403.
//   - --token-auth-file accepts kube-apiserver's CSV format (token,user,uid,"g1,g2"); an
//     unknown token is rejected with 401 instead of falling through to anonymous.
//   - OpenAPI v2 is configured as well as v3. Without a v2 config the generic server serves
//     no /openapi/v2 and apiextensions starts neither CRD OpenAPI controller, so custom
//     resource schemas would be missing from /openapi/v3 too.
//   - /apis is served (plain APIGroupList and aggregated apidiscovery.k8s.io/v2), because
//     apiextensions turns generic root discovery off (kube-apiserver's aggregator owns it).
//   - --version prints "Kubernetes v1.36.x" so the installer can check its cache.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"

	"github.com/spf13/cobra"
	nooptrace "go.opentelemetry.io/otel/trace/noop"

	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	apiextensionsserver "k8s.io/apiextensions-apiserver/pkg/apiserver"
	serveroptions "k8s.io/apiextensions-apiserver/pkg/cmd/server/options"
	crdopenapi "k8s.io/apiextensions-apiserver/pkg/generated/openapi"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/group"
	"k8s.io/apiserver/pkg/authentication/request/bearertoken"
	"k8s.io/apiserver/pkg/authentication/request/union"
	"k8s.io/apiserver/pkg/authentication/token/tokenfile"
	aggregateddiscovery "k8s.io/apiserver/pkg/endpoints/discovery/aggregated"
	"k8s.io/apiserver/pkg/endpoints/handlers/negotiation"
	"k8s.io/apiserver/pkg/endpoints/handlers/responsewriters"
	openapinamer "k8s.io/apiserver/pkg/endpoints/openapi"
	genericapiserver "k8s.io/apiserver/pkg/server"
	utilopenapi "k8s.io/apiserver/pkg/util/openapi"
	"k8s.io/apiserver/pkg/util/proxy"
	"k8s.io/apiserver/pkg/util/webhook"
	clientscheme "k8s.io/client-go/kubernetes/scheme"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/component-base/cli"
	"k8s.io/component-base/version/verflag"
	netutils "k8s.io/utils/net"
)

// aggregatedAccept asks the discovery handler for the aggregated document.
const aggregatedAccept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

// noServices resolves conversion-webhook services against an empty lister: without a core
// API there are no Service objects, so only clientConfig.url webhooks can work.
type noServices struct{ lister corelisters.ServiceLister }

func (s noServices) ResolveEndpoint(namespace, name string, port int32) (*url.URL, error) {
	return proxy.ResolveCluster(s.lister, namespace, name, port)
}

func emptyServiceLister() corelisters.ServiceLister {
	indexer := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	return corelisters.NewServiceLister(indexer)
}

// withStaticTokens puts the CSV token file in front of whatever authenticators the options
// built (client certificates, anonymous); a bad token fails instead of becoming anonymous.
func withStaticTokens(existing authenticator.Request, path string) (authenticator.Request, error) {
	tokens, err := tokenfile.NewCSV(path)
	if err != nil {
		return nil, fmt.Errorf("--token-auth-file %s: %w", path, err)
	}
	byToken := group.NewAuthenticatedGroupAdder(bearertoken.New(tokens))
	if existing == nil {
		return byToken, nil
	}
	return union.NewFailOnError(byToken, existing), nil
}

// buildConfig follows CustomResourceDefinitionsServerOptions.Config, except that it tolerates a
// missing core API and configures OpenAPI v2 next to v3.
func buildConfig(o *serveroptions.CustomResourceDefinitionsServerOptions, tokenFile string) (*apiextensionsserver.Config, error) {
	loopback := []net.IP{netutils.ParseIPSloppy("127.0.0.1")}
	if err := o.RecommendedOptions.SecureServing.MaybeDefaultWithSelfSignedCerts("localhost", nil, loopback); err != nil {
		return nil, fmt.Errorf("self-signed serving certificate: %w", err)
	}
	generic := genericapiserver.NewRecommendedConfig(apiextensionsserver.Codecs)
	if err := o.ServerRunOptions.ApplyTo(&generic.Config); err != nil {
		return nil, err
	}
	if err := o.RecommendedOptions.ApplyTo(generic); err != nil {
		return nil, err
	}
	if err := o.APIEnablement.ApplyTo(&generic.Config, apiextensionsserver.DefaultAPIResourceConfigSource(), apiextensionsserver.Scheme); err != nil {
		return nil, err
	}

	definitions := utilopenapi.GetOpenAPIDefinitionsWithoutDisabledFeatures(crdopenapi.GetOpenAPIDefinitions)
	namer := openapinamer.NewDefinitionNamer(apiextensionsserver.Scheme, clientscheme.Scheme)
	generic.OpenAPIConfig = genericapiserver.DefaultOpenAPIConfig(definitions, namer)
	generic.OpenAPIConfig.Info.Title = "Kubernetes"
	generic.OpenAPIV3Config = genericapiserver.DefaultOpenAPIV3Config(definitions, namer)
	generic.OpenAPIV3Config.Info.Title = "Kubernetes"

	if tokenFile != "" {
		authn, err := withStaticTokens(generic.Authentication.Authenticator, tokenFile)
		if err != nil {
			return nil, err
		}
		generic.Authentication.Authenticator = authn
	}

	services := emptyServiceLister()
	if generic.SharedInformerFactory != nil {
		services = generic.SharedInformerFactory.Core().V1().Services().Lister()
	}
	extra := apiextensionsserver.ExtraConfig{
		CRDRESTOptionsGetter: serveroptions.NewCRDRESTOptionsGetter(*o.RecommendedOptions.Etcd, generic.ResourceTransformers, generic.StorageObjectCountTracker),
		ServiceResolver:      noServices{services},
		AuthResolverWrapper:  webhook.NewDefaultAuthenticationInfoResolverWrapper(nil, nil, generic.LoopbackClientConfig, nooptrace.NewTracerProvider()),
	}
	return &apiextensionsserver.Config{GenericConfig: generic, ExtraConfig: extra}, nil
}

// groupListFromAggregated answers the plain /apis request by asking the aggregated handler and
// reducing its document to an APIGroupList, so both forms always list the same groups, in the
// same (preferred-first) version order.
func groupListFromAggregated(aggregated http.Handler, serializer runtime.NegotiatedSerializer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inner := r.Clone(r.Context())
		inner.Header = http.Header{"Accept": []string{aggregatedAccept}}
		recorder := httptest.NewRecorder()
		aggregated.ServeHTTP(recorder, inner)
		var document apidiscoveryv2.APIGroupDiscoveryList
		if recorder.Code != http.StatusOK {
			http.Error(w, "aggregated discovery answered "+http.StatusText(recorder.Code), http.StatusServiceUnavailable)
			return
		}
		if err := json.Unmarshal(recorder.Body.Bytes(), &document); err != nil {
			http.Error(w, "aggregated discovery document unreadable: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		list := metav1.APIGroupList{Groups: []metav1.APIGroup{}}
		for _, item := range document.Items {
			if len(item.Versions) == 0 {
				continue
			}
			entry := metav1.APIGroup{Name: item.Name}
			for _, version := range item.Versions {
				entry.Versions = append(entry.Versions, metav1.GroupVersionForDiscovery{
					GroupVersion: item.Name + "/" + version.Version,
					Version:      version.Version,
				})
			}
			entry.PreferredVersion = entry.Versions[0]
			list.Groups = append(list.Groups, entry)
		}
		responsewriters.WriteObjectNegotiated(serializer, negotiation.DefaultEndpointRestrictions, schema.GroupVersion{}, w, r, http.StatusOK, &list, false)
	})
}

// serveRootDiscovery mounts /apis on the server's go-restful container.
func serveRootDiscovery(server *genericapiserver.GenericAPIServer) {
	manager := server.AggregatedDiscoveryGroupManager
	if manager == nil {
		return
	}
	var peers http.Handler
	if server.PeerAggregatedDiscoveryManager != nil {
		peers = server.PeerAggregatedDiscoveryManager
	}
	handler := aggregateddiscovery.WrapAggregatedDiscoveryToHandler(groupListFromAggregated(manager, server.Serializer), manager, peers)
	server.Handler.GoRestfulContainer.Add(handler.GenerateWebService("/apis", metav1.APIGroupList{}))
}

func serve(ctx context.Context, o *serveroptions.CustomResourceDefinitionsServerOptions, tokenFile string) error {
	config, err := buildConfig(o, tokenFile)
	if err != nil {
		return err
	}
	server, err := config.Complete().New(genericapiserver.NewEmptyDelegate())
	if err != nil {
		return err
	}
	serveRootDiscovery(server.GenericAPIServer)
	return server.GenericAPIServer.PrepareRun().RunWithContext(ctx)
}

// dropCoreDependencies switches off what needs a core kube-apiserver when none is configured.
func dropCoreDependencies(o *serveroptions.CustomResourceDefinitionsServerOptions) {
	if o.RecommendedOptions.CoreAPI != nil && o.RecommendedOptions.CoreAPI.CoreAPIKubeconfigPath != "" {
		return
	}
	o.RecommendedOptions.CoreAPI = nil
	o.RecommendedOptions.Admission = nil
	o.RecommendedOptions.Features.EnablePriorityAndFairness = false
}

func newCommand(ctx context.Context) *cobra.Command {
	o := serveroptions.NewCustomResourceDefinitionsServerOptions(os.Stdout, os.Stderr)
	o.RecommendedOptions.Authentication.RemoteKubeConfigFileOptional = true
	o.RecommendedOptions.Authorization.RemoteKubeConfigFileOptional = true
	var tokenFile string
	command := &cobra.Command{
		Use:   "apiextensions-apiserver",
		Short: "Kubernetes API server for CustomResourceDefinitions and custom resources only (tests)",
		PersistentPreRunE: func(*cobra.Command, []string) error {
			verflag.PrintAndExitIfRequested()
			return o.ServerRunOptions.ComponentGlobalsRegistry.Set()
		},
		RunE: func(c *cobra.Command, _ []string) error {
			dropCoreDependencies(o)
			if err := o.Complete(); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return serve(c.Context(), o, tokenFile)
		},
	}
	command.SetContext(ctx)
	flags := command.Flags()
	o.AddFlags(flags)
	verflag.AddFlags(flags)
	flags.StringVar(&tokenFile, "token-auth-file", "", "Static bearer tokens, kube-apiserver's CSV format: token,user,uid,\"group1,group2\".")
	return command
}

func main() {
	os.Exit(cli.Run(newCommand(genericapiserver.SetupSignalContext())))
}
